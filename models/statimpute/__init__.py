"""Time-series imputation: fills the gaps of one SIDS indicator series over the years."""

from common.serving.registry import ModelSpec
from models.statimpute.router import router

MODEL = ModelSpec(
    name="statimpute", label="Time Series Imputation", router=router, main_endpoint="/impute"
)

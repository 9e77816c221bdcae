"""Time-series imputation: fills the gaps of one SIDS indicator series over the years."""

from common.serving.registry import ModelSpec, model_name
from models.statimpute.router import router

MODEL = ModelSpec(
    name=model_name(__name__),
    label="Time Series Imputation",
    router=router,
    main_endpoint="/impute",
)

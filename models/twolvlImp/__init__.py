"""Two-level imputation: fills SIDS gaps of an indicator from other indicators of the same year."""

from models import ModelSpec
from models.twolvlImp.router import router

MODEL = ModelSpec(
    name="twolvlImp", label="Two Level Imputation", router=router, main_endpoint="/predict"
)

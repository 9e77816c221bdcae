"""Two-level imputation: fills SIDS gaps of an indicator from other indicators of the same year."""

from common.serving.registry import ModelSpec
from models.twolvlImp.precomputed import BATCH
from models.twolvlImp.router import router
from models.twolvlImp.tasks import MODEL_NAME, PREDICT, WARM, WARM_UP

MODEL = ModelSpec(
    name=MODEL_NAME,
    label="Two Level Imputation",
    router=router,
    main_endpoint="/predict",
    tasks=(PREDICT, WARM),
    batches=(BATCH,),
    warmups=(WARM_UP,),
)

"""Country correlation and clustering: which SIDS have similar indicator profiles in a year."""

from common.serving.registry import ModelSpec, model_name
from models.correlation.router import router

MODEL = ModelSpec(
    name=model_name(__name__),
    label="Country Correlation and Clustering",
    router=router,
    main_endpoint="/cluster",
)

"""Country correlation and clustering: which SIDS have similar indicator profiles in a year."""

from common.serving.registry import ModelSpec
from models.correlation.router import router

MODEL = ModelSpec(
    name="correlation",
    label="Country Correlation and Clustering",
    router=router,
    main_endpoint="/cluster",
)

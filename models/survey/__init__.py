"""Survey clustering: groups a survey's respondents on the questions of one factor."""

from common.serving.registry import ModelSpec, model_name
from models.survey.router import router

MODEL = ModelSpec(
    name=model_name(__name__), label="Survey Clustering", router=router, main_endpoint="/clustering"
)

"""Survey clustering: groups a survey's respondents on the questions of one factor."""

from common.serving.registry import ModelSpec
from models.survey.router import router

MODEL = ModelSpec(
    name="survey", label="Survey Clustering", router=router, main_endpoint="/clustering"
)

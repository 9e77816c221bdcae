"""Sample API: the smallest complete model, the template for new ones (see the README).

This file only declares the model: its folder name is its route prefix (/sampleapi), the label
is what the front end shows, and the main endpoint is the one `/params` describes as a form.
"""

from common.serving.registry import ModelSpec, model_name
from models.sampleapi.router import router

MODEL = ModelSpec(
    name=model_name(__name__), label="Sample API", router=router, main_endpoint="/summary"
)

"""Async jobs: submit a training, get an id, poll until it is completed or failed."""

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from common.core.errors import ErrorBody
from common.serving.jobs import JobRecord, JobStatus
from common.web.dependencies import JobServiceDep, SettingsDep, StoreDep

router = APIRouter(prefix="/jobs", tags=["Jobs"])


class JobSubmission(BaseModel):
    """A request to run a model endpoint as a job; `request` is that endpoint's body."""

    model: str = Field(
        description="The model, as in the path: `twolvlImp`.", examples=["twolvlImp"]
    )
    endpoint: str = Field(description="The training endpoint: `predict`.", examples=["predict"])
    request: dict[str, Any] = Field(description="The body the sync endpoint would take.")


class JobView(BaseModel):
    """A job's state, and its result once completed or its error once failed."""

    id: str
    status: JobStatus
    model: str
    endpoint: str
    submitted: datetime
    started: datetime | None
    finished: datetime | None
    attempts: int
    result: dict[str, Any] | None = None
    error: ErrorBody | None = None
    links: dict[str, str]


@router.post("", status_code=202, responses={503: {"model": ErrorBody}})
async def submit_job(
    submission: JobSubmission,
    request: Request,
    response: Response,
    store: StoreDep,
    jobs: JobServiceDep,
    settings: SettingsDep,
) -> JobView:
    """Validate the request as the sync route would (422 now, not a failed job later) and queue it.

    A result already cached for the same request and data completes the job at once.
    """
    task = jobs.tasks.find(submission.model, submission.endpoint)
    parsed = jobs.tasks.parse(task, submission.request)
    task.validate(store, parsed, settings)
    record = await run_in_threadpool(jobs.submit, task, parsed, store.version)
    result = None
    if record.status == JobStatus.completed:
        record, result = await run_in_threadpool(jobs.get, record.id)
    view = _view(record, result, request)
    response.headers["Location"] = view.links["self"]
    return view


@router.get("/{job_id}", responses={404: {"model": ErrorBody}})
async def get_job(job_id: str, request: Request, jobs: JobServiceDep) -> JobView:
    """The job's status; `result` once completed, `error` once failed. Unknown id: 404."""
    record, result = await run_in_threadpool(jobs.get, job_id)
    return _view(record, result, request)


def _view(record: JobRecord, result: bytes | None, request: Request) -> JobView:
    return JobView(
        **record.model_dump(exclude={"request", "cache_key", "error"}),
        error=record.error,
        result=json.loads(result) if result is not None else None,
        links={"self": str(request.app.url_path_for("get_job", job_id=record.id))},
    )

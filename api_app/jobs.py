"""Async jobs: submit a training, get an id, poll until it is completed or failed."""

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from common.core.errors import ErrorBody, NotFound
from common.serving.batch import (
    BatchProgress,
    BatchService,
    BatchView,
    default_output,
    parse_request,
)
from common.serving.jobs import JobRecord, JobService, JobStatus
from common.serving.tasks import Task, is_job_id
from common.web.dependencies import JobServiceDep, SettingsDep, StoreDep

router = APIRouter(prefix="/jobs", tags=["Jobs"])


class JobSubmission(BaseModel):
    """A request to run a model endpoint as a job; `request` is that endpoint's body."""

    model: str = Field(
        description="The model, as in the path: `twolvlImp`.", examples=["twolvlImp"]
    )
    endpoint: str = Field(
        description="The job endpoint of the model: `predict` (the body of `POST "
        "/twolvlImp/predict`), `batch` (a batch run of predict requests) or `warm` (impute a "
        "year's predictor matrix ahead of its first request: `{target_year, interpolator}`; its "
        "result is `{year, imputer, rows, columns, dataset_version}`).",
        examples=["predict"],
    )
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
    progress: BatchProgress | None = Field(
        None, description="A batch's units: done, failed, total and the time left."
    )
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

    A result already cached for the same request and data completes the job at once. A batch
    (model `twolvlImp`, endpoint `batch`) is fanned out as one message per unit; its view
    carries `progress`, and once finished `result` says where the files are and which steps
    failed.
    """
    task = jobs.tasks.find_any(submission.model, submission.endpoint)
    if not isinstance(task, Task):
        batches = BatchService(settings, jobs.storage)
        batch_request = parse_request(task, submission.request)
        for limit in task.task.limits:  # the caps of the task's settings, as predict has them
            limit.check(batch_request, settings)
        output = default_output(settings, jobs.storage, getattr(batch_request, "output_prefix", ""))
        batch = await run_in_threadpool(batches.submit, task, batch_request, store, output)
        view = _batch_view(batches.view(batch), request)
        response.headers["Location"] = view.links["self"]
        return view
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
async def get_job(
    job_id: str, request: Request, jobs: JobServiceDep, settings: SettingsDep
) -> JobView:
    """The job's status; `result` once completed, `error` once failed; a batch's `progress`.
    Unknown id: 404."""
    return await run_in_threadpool(_find_job, job_id, request, jobs, settings)


def _find_job(job_id: str, request: Request, jobs: JobService, settings: Any) -> JobView:
    try:
        record, result = jobs.get(job_id)
    except NotFound:
        batch = BatchService(settings, jobs.storage).find(job_id) if is_job_id(job_id) else None
        if batch is None:
            raise
        return _batch_view(batch, request)
    return _view(record, result, request)


def _batch_view(batch: BatchView, request: Request) -> JobView:
    record, finished = batch.record, batch.finished
    result = None
    if finished is not None and record.error is None:
        result = {
            "output": record.output.model_dump(),
            "where": record.output.describe(),
            "files": [unit.path for unit in record.units],
            "failures": [failure.model_dump(mode="json") for failure in batch.failures],
        }
    return JobView(
        id=record.id,
        status=JobStatus(batch.status.value),
        model=record.model,
        endpoint=record.endpoint,
        submitted=record.submitted,
        started=None,
        finished=finished,
        attempts=0,
        result=result,
        error=record.error,
        progress=batch.progress,
        links={"self": str(request.app.url_path_for("get_job", job_id=record.id))},
    )


def _view(record: JobRecord, result: bytes | None, request: Request) -> JobView:
    return JobView(
        **record.model_dump(exclude={"request", "cache_key", "error"}),
        error=record.error,
        result=json.loads(result) if result is not None else None,
        links={"self": str(request.app.url_path_for("get_job", job_id=record.id))},
    )

"""One factory for boto3 clients, and the translation of botocore failures into errors a user can fix."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.exceptions as bx
from botocore.config import Config as BotoConfig

from chroma_cleanup.errors import AwsUnavailable, ConfigError

AUTH_CODES = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "AccessDenied",
    "AccessDeniedException",
}


@dataclass
class AwsSession:
    """Creates each boto3 client once, all from the same profile, region and endpoint."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    max_pool: int = 16
    credentials: tuple[str, str] | None = None  # only for the local sandbox, which takes any key
    _session: Any = None
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            with aws_errors(f"{service} client"):
                if self._session is None:
                    keys = {}
                    if self.credentials:
                        keys = {"aws_access_key_id": self.credentials[0], "aws_secret_access_key": self.credentials[1]}
                    self._session = boto3.Session(profile_name=self.profile, region_name=self.region, **keys)
                config = BotoConfig(
                    retries={"mode": "standard", "max_attempts": 8},
                    connect_timeout=5,
                    read_timeout=30,
                    max_pool_connections=self.max_pool,
                )
                try:
                    client = self._session.client(service, endpoint_url=self.endpoint_url or None, config=config)
                except bx.BotoCoreError:
                    raise  # e.g. InvalidRegionError (also a ValueError): aws_errors words it
                except ValueError as exc:  # botocore: "Invalid endpoint: ..."
                    raise ConfigError(str(exc), "give a URL such as http://127.0.0.1:5000 to --endpoint-url") from None
                # On the same event name as botocore's own retry handler, so that ours is asked first.
                service_id = client.meta.service_model.service_id.hyphenize()
                client.meta.events.register_first(f"needs-retry.{service_id}", _retry_unreachable_once)
                self._clients[service] = client
        return self._clients[service]

    def where(self) -> str:
        return self.endpoint_url or "AWS"


def _retry_unreachable_once(attempts: int, caught_exception: Exception | None = None, **_: Any) -> bool | None:
    """Nothing answering at the endpoint: give up after one retry, not after 8 attempts and ~10 s of backoff.

    Throttling and dropped connections keep the standard retries (None lets botocore's own handler decide).
    """
    if isinstance(caught_exception, bx.ConnectionError) and attempts >= 2:
        return False
    return None


def error_code(exc: bx.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


def error_message(exc: bx.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", "")) or str(exc)


@contextmanager
def aws_errors(what: str) -> Iterator[None]:
    """Turn botocore's setup and connection failures into one-line errors with a hint."""
    try:
        yield
    except bx.ProfileNotFound as exc:
        raise ConfigError(str(exc), "check --profile / AWS_PROFILE and ~/.aws/config") from None
    except bx.NoRegionError:
        raise ConfigError("no AWS region is set", "pass --region or set AWS_REGION") from None
    except (bx.InvalidRegionError, bx.ParamValidationError, bx.EndpointResolutionError) as exc:
        # botocore refuses a name before sending anything: an invalid region, bucket or table name.
        raise ConfigError(
            f"invalid name for {what}: {' '.join(str(exc).split())}"[:300],
            "check --bucket, --table, --region and the stack outputs",
        ) from None
    except (bx.NoCredentialsError, bx.PartialCredentialsError):
        raise AwsUnavailable(
            "no AWS credentials were found", "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        ) from None
    except (bx.ConnectionError, bx.HTTPClientError) as exc:  # refused, timed out, or dropped mid-answer
        url = getattr(exc, "kwargs", {}).get("endpoint_url", "")
        raise AwsUnavailable(
            f"cannot reach the AWS endpoint {url} while reading {what}".replace("  ", " "),
            "check --endpoint-url / AWS_ENDPOINT_URL and your network (is the sandbox running?)",
        ) from None
    except bx.ClientError as exc:
        code = error_code(exc)
        if code in AUTH_CODES:
            raise AwsUnavailable(f"AWS refused {what}: {code}", "check the credentials and their permissions") from None
        raise


def require_bucket(session: AwsSession, bucket: str) -> None:
    """Fail with a readable error, before any change, when the bucket cannot be used."""
    with aws_errors(f"bucket {bucket}"):
        try:
            session.client("s3").head_bucket(Bucket=bucket)
        except bx.ClientError as exc:
            if error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
                raise AwsUnavailable(
                    f"bucket {bucket} does not exist at {session.where()}",
                    "check --bucket / the stack outputs and --region",
                ) from None
            raise


def require_table(session: AwsSession, table: str) -> None:
    with aws_errors(f"table {table}"):
        try:
            session.client("dynamodb").describe_table(TableName=table)
        except bx.ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                raise AwsUnavailable(
                    f"table {table} does not exist at {session.where()}",
                    "check --table / the stack outputs and --region",
                ) from None
            raise

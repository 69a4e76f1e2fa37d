"""Access tokens for the CRM APIs, from the environment or Salesforce's refresh-token flow.

A HubSpot private-app token is long-lived (valid until rotated), so the token variable is
enough. A pasted Salesforce session token lasts about two hours, which no monthly schedule
survives: with a connected app's client id, secret and refresh token in the environment,
the documented refresh-token flow (``POST /services/oauth2/token``,
``grant_type=refresh_token``) gets a fresh access token at the start of every run.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from listbuilder.errors import ConfigError, DataError
from listbuilder.inputs.http import Client


def access_token(
    client: Client,
    path: object,
    token_env: str,
    refresh_envs: tuple[str | None, str | None, str | None],
    env: Mapping[str, str],
) -> str:
    """The bearer token to use, registered with ``client`` so that it is never shown.

    ``refresh_envs`` names the client id, client secret and refresh token variables; when
    all three are set in ``env`` the refresh-token flow is used, otherwise ``token_env``.

    Raises:
        ConfigError: Neither the refresh-token variables nor ``token_env`` are set, or
            only some of the refresh-token variables are.
        DataError: The token endpoint refused the refresh token.
    """
    values = [env.get(name or "", "").strip() if name else "" for name in refresh_envs]
    if any(values) and not all(values):
        unset = [n for n, v in zip(refresh_envs, values, strict=True) if n and not v]
        raise ConfigError(
            f"the refresh-token flow needs {', '.join(unset)} set too (api.client_id_env, "
            f"client_secret_env and refresh_token_env in {path})"
        )
    if all(values):
        client.secrets.update(values)
        return _refresh(client, *values)
    token = env.get(token_env, "").strip()
    if not token:
        raise ConfigError(
            f"environment variable {token_env} is not set (api.token_env in {path}): "
            "export the access token there"
        )
    client.secrets.add(token)
    return token


def _refresh(client: Client, client_id: str, secret: str, refresh: str) -> str:
    form = {
        "grant_type": "refresh_token",
        "client_id": client_id,
        "client_secret": secret,
        "refresh_token": refresh,
    }
    answer = client.send(
        "POST",
        "/services/oauth2/token",
        data=urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        ok=(200,),
        authorise=False,
    )
    token = answer.body.get("access_token") if isinstance(answer.body, dict) else None
    if not token:
        raise DataError("the Salesforce token endpoint answered without an access_token")
    client.secrets.add(str(token))
    return str(token)

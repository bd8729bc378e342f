"""The OAuth2 client-credentials flow shared by UPS, FedEx, USPS and GLS; only their bodies differ."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from werkzeug import Request, Response

from carriers.sandbox.base import CarrierApi, SandboxContext, json_response
from carriers.sandbox.tokens import TokenState, bearer_token, client_credentials, grant_type


class OAuthCarrierApi(CarrierApi):
    """A carrier that issues bearer tokens for client credentials and checks them on tracking calls."""

    def token(self, ctx: SandboxContext, request: Request) -> Response:
        """Issue a token for the sandbox client, else the carrier's invalid-client answer."""
        expected = (ctx.credentials.client_id, ctx.credentials.client_secret)
        if grant_type(request) != "client_credentials" or client_credentials(request) != expected:
            return self.invalid_client()
        token = ctx.tokens.issue(self.code)
        return json_response(self.token_body(token, int(ctx.tokens.ttl), ctx.credentials.client_id))

    def authorize(self, ctx: SandboxContext, request: Request) -> Response | None:
        """Accept a live bearer token of this carrier."""
        state = ctx.tokens.check(self.code, bearer_token(request))
        return None if state is TokenState.VALID else self.unauthorized(state)

    @abstractmethod
    def token_body(self, token: str, expires_in: int, client_id: str) -> dict[str, Any]:
        """The carrier's token response body."""

    @abstractmethod
    def invalid_client(self) -> Response:
        """The carrier's answer to bad client credentials."""

    @abstractmethod
    def unauthorized(self, state: TokenState) -> Response:
        """The carrier's answer to a missing, unknown or expired token."""

"""/api/v1/auth: OTP sign-in, refresh with rotation, logout, the signed-in user."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from crm_domain.users import Actor
from entrypoints.http.deps import ActorDep, AuthDep, CrmDep, TokensDep
from entrypoints.http.rate_limits import client_of as client_address_of
from entrypoints.http.schemas.auth import OtpRequestIn, OtpRequestOut, OtpVerifyIn, RefreshIn, TokenPairOut, UserOut
from entrypoints.http.security import CrmToken


def client_of(request: Request[Any, Any, Any]) -> str:
    """The address the sign-in limits key on: behind trusted proxies, the forwarded client (SPEC §5)."""
    return client_address_of(request.scope)


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post(
        "/otp/request",
        status_code=HTTP_202_ACCEPTED,
        operation_id="requestOtp",
        security=[{}],
        sync_to_thread=True,
        summary="Text a one-time sign-in code (the same answer whether or not the mobile is known)",
    )
    def request_otp(
        self, auth: AuthDep, request: Request[Any, Any, Any], data: JSONBody[OtpRequestIn]
    ) -> OtpRequestOut:
        issued = auth.request_otp(data.mobile, client_of(request))
        return OtpRequestOut(
            request_id=issued.request_id, expires_in=issued.expires_in, resend_after=issued.resend_after
        )

    @post(
        "/otp/verify",
        status_code=HTTP_200_OK,
        operation_id="verifyOtp",
        security=[{}],
        sync_to_thread=True,
        summary="Exchange the code for an access and a refresh token",
    )
    def verify_otp(
        self, auth: AuthDep, tokens: TokensDep, request: Request[Any, Any, Any], data: JSONBody[OtpVerifyIn]
    ) -> TokenPairOut:
        signed = auth.verify_otp(data.mobile, data.otp, client_of(request))
        return TokenPairOut(**tokens.issue(signed), user=UserOut.of(signed.user, with_permissions=True))

    @post(
        "/refresh",
        status_code=HTTP_200_OK,
        operation_id="refreshTokens",
        security=[{}],
        sync_to_thread=True,
        summary="A new token pair; the old refresh token stops working, and reusing it ends the session",
    )
    def refresh(self, auth: AuthDep, tokens: TokensDep, data: JSONBody[RefreshIn]) -> TokenPairOut:
        session_id, jti = tokens.read_refresh(data.refresh_token)
        signed = auth.refresh(session_id, jti)
        return TokenPairOut(**tokens.issue(signed), user=UserOut.of(signed.user, with_permissions=True))

    @post(
        "/logout",
        status_code=HTTP_204_NO_CONTENT,
        operation_id="logout",
        sync_to_thread=True,
        summary="End this session: its access and refresh tokens stop working at once",
    )
    def logout(self, auth: AuthDep, request: Request[Actor, CrmToken, Any]) -> None:
        auth.logout(request.auth.sid)

    @get("/me", operation_id="me", sync_to_thread=True, summary="The signed-in user with roles and permissions")
    def me(self, crm: CrmDep, actor: ActorDep) -> UserOut:
        return UserOut.of(crm.users.get(actor, actor.id), with_permissions=True)

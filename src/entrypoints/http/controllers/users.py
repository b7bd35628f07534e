"""/api/v1/users: create, list, read and change users; deactivating ends their sessions at once."""

from __future__ import annotations

from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from crm_domain.records import PageRequest
from entrypoints.http.controllers.orders import Cursor, Limit
from entrypoints.http.deps import ActorDep, AuthDep, CrmDep
from entrypoints.http.list_params import UpdatedSince, since
from entrypoints.http.schemas.auth import UserOut
from entrypoints.http.schemas.common import Page
from entrypoints.http.schemas.users import UserIn, UserPatchIn


class UserController(Controller):
    path = "/users"
    tags = ["users"]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        operation_id="createUser",
        sync_to_thread=True,
        summary="Create a user (admin); the mobile must not be taken",
    )
    def create(self, crm: CrmDep, actor: ActorDep, data: JSONBody[UserIn]) -> UserOut:
        return UserOut.of(crm.users.create(actor, data.command()))

    @get(
        "/",
        operation_id="listUsers",
        sync_to_thread=True,
        summary="Users by name: all for an admin, the team for a manager, oneself for everyone else",
    )
    def list_users(
        self,
        crm: CrmDep,
        actor: ActorDep,
        updated_since: UpdatedSince = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> Page[UserOut]:
        page = crm.users.list(actor, PageRequest(limit=limit, cursor=cursor), updated_since=since(updated_since))
        return Page[UserOut](items=[UserOut.of(u) for u in page.items], next_cursor=page.next_cursor)

    @get("/{user_id:str}", operation_id="getUser", sync_to_thread=True, summary="A user (oneself, or in one's team)")
    def get_user(self, crm: CrmDep, actor: ActorDep, user_id: FromPath[str]) -> UserOut:
        return UserOut.of(crm.users.get(actor, user_id))

    @patch(
        "/{user_id:str}",
        operation_id="updateUser",
        sync_to_thread=True,
        summary="Change a user (admin); `active: false` or new roles or customer end their sessions at once",
    )
    def update(
        self, crm: CrmDep, auth: AuthDep, actor: ActorDep, user_id: FromPath[str], data: JSONBody[UserPatchIn]
    ) -> UserOut:
        user = crm.users.update(actor, user_id, data.changes())
        if data.ends_sessions:
            # Their tokens carry roles and customer; a deactivated user must be locked out now, not at expiry.
            auth.end_sessions(user.id)
        return UserOut.of(user)

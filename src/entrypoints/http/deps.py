"""Names of what handlers get injected (Litestar `NamedDependency`): the use cases, the signed-in actor, the
token service. Provided in app.py."""

from __future__ import annotations

from typing import TypeAlias

from litestar.di import NamedDependency
from litestar.params import SkipValidation

from crm_domain.app import Crm
from crm_domain.ports import FileStore
from crm_domain.services.auth import AuthService
from crm_domain.users import Actor
from entrypoints.http.readiness import Readiness
from entrypoints.http.security import Tokens
from entrypoints.ports import Writes

CrmDep: TypeAlias = NamedDependency[Crm]
ActorDep: TypeAlias = NamedDependency[Actor]
AuthDep: TypeAlias = NamedDependency[AuthService]
TokensDep: TypeAlias = NamedDependency[Tokens]
ReadinessDep: TypeAlias = NamedDependency[Readiness]
#: A Protocol again: not validated.
WritesDep: TypeAlias = NamedDependency[SkipValidation[Writes]]
#: A Protocol cannot be checked with isinstance, so Litestar is told not to validate the provided store.
FilesDep: TypeAlias = NamedDependency[SkipValidation[FileStore]]

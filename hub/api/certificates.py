"""Credit certificates over GraphQL: a unit issues one on behalf of an A-class subject of its
jurisdiction and hands over the printable PDF; the QR code on it opens ``/verify/…``."""

from __future__ import annotations

from datetime import date

import strawberry

from graph.certificates import NotEligible, issue
from hub.api.context import RootPolicy, audit, ctx, parse_code, resolver
from hub.api.records.units import unit_of
from hub.errors import Code, HubError
from hub.portal.tokens import signing_key
from hub.settings import get_settings
from policies.credit.certificates import default_certificate_rules
from policies.units import unit_prefix


@strawberry.type(description="A credit certificate just issued.")
class IssuedCertificate:
    id: str
    credit_code: str
    name: str
    grade: str = strawberry.field(description="The grade it states (an A class).")
    issued_on: date
    expires_on: date = strawberry.field(description="Its last valid day.")
    pdf_url: str = strawberry.field(description="The printable certificate with its QR code.")


@strawberry.type
class CertificateMutations:
    @strawberry.mutation(
        description="Issue a credit certificate (信用等级证书) with a QR code to an A-class "
        "subject of your jurisdiction that is on no dishonesty list. A listing or a lower "
        "grade revokes it at once.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def issue_certificate(self, info: strawberry.Info, credit_code: str) -> IssuedCertificate:
        context = ctx(info)
        unit = unit_of(context.principal)
        code = parse_code(credit_code)
        settings = get_settings()
        try:
            made = await issue(
                context.store,
                default_certificate_rules(),
                code,
                agency=unit,
                prefix=unit_prefix(unit),
                scope=context.scope,
                key_id=signing_key(settings.keys_dir).kid,
                today=date.today(),
            )
        except NotEligible as exc:
            audit(info, code, (), "DENY", "write")
            if exc.reason == "not-found":
                raise HubError(Code.NOT_FOUND, str(exc), reason=exc.reason) from None
            raise HubError(Code.CONFLICT, str(exc), reason=exc.reason) from None
        audit(info, code, (made.id,), action="write")
        return IssuedCertificate(
            id=made.id,
            credit_code=code,
            name=made.name,
            grade=made.grade,
            issued_on=made.issued_on,
            expires_on=made.expires_on,
            pdf_url=f"{settings.base_url}/certificates/{made.id}.pdf",
        )

"""The GraphQL schema: the root types composed from each feature's fields, and its extensions."""

from __future__ import annotations

from functools import cache

import strawberry
from graphql import GraphQLSchema, build_schema
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig

from hub.api.associations import AssociationMutations, AssociationQueries
from hub.api.audit_queries import AuditQueries
from hub.api.audit_stream import AuditTrail
from hub.api.cases.court_documents import CourtDocumentMutations, CourtDocumentQueries
from hub.api.cases.mutations import CaseMutations
from hub.api.cases.queries import CaseQueries
from hub.api.cases.typical import TypicalCaseMutations, TypicalCaseQueries
from hub.api.certificates import CertificateMutations
from hub.api.feed import FeedQueries
from hub.api.feedback import FeedbackMutations
from hub.api.investigate.exposure import ExposureQueries
from hub.api.investigate.network import NetworkQueries
from hub.api.investigate.ownership import ControlQueries
from hub.api.investigate.paths import PathQueries
from hub.api.investigate.rings import RingQueries
from hub.api.investigate.subgraph import SubgraphQueries
from hub.api.partners import PartnerMutations, PartnerQueries
from hub.api.records.abnormal import AbnormalMutations
from hub.api.records.archive import ArchiveQueries
from hub.api.records.assessment import AssessmentQueries
from hub.api.records.corrections import CorrectionMutations
from hub.api.records.listings import ListingMutations, ListingQueries
from hub.api.records.lookup import LookupQueries
from hub.api.records.review import ReviewMutations, ReviewQueries
from hub.api.records.submission import SubmissionMutations
from hub.api.rights.archive import ArchiveRightsQueries
from hub.api.rights.commitments import CommitmentMutations
from hub.api.rights.complaints import ComplaintMutations, ComplaintQueries
from hub.api.rights.objections import ObjectionMutations, ObjectionQueries
from hub.api.rights.overdue import OverdueQueries
from hub.api.rights.repair import RepairMutations, RepairQueries
from hub.api.search import SearchQueries
from hub.api.subjects.queries import SubjectQueries
from hub.errors import CodedErrors

# Root fields print (and so reach the published contracts in docs/schema/) in the order of these
# bases: keep it, or the committed contracts change.


@strawberry.type
class Query(
    ReviewQueries,
    LookupQueries,
    ArchiveQueries,
    AssessmentQueries,
    ExposureQueries,
    RingQueries,
    NetworkQueries,
    PathQueries,
    SubgraphQueries,
    ControlQueries,
    SearchQueries,
    PartnerQueries,
    FeedQueries,
    ListingQueries,
    SubjectQueries,
    AuditQueries,
    ComplaintQueries,
    ArchiveRightsQueries,
    ObjectionQueries,
    RepairQueries,
    OverdueQueries,
    CourtDocumentQueries,
    TypicalCaseQueries,
    AssociationQueries,
    CaseQueries,
):
    pass


@strawberry.type
class Mutation(
    SubmissionMutations,
    ReviewMutations,
    CorrectionMutations,
    PartnerMutations,
    ListingMutations,
    FeedbackMutations,
    AbnormalMutations,
    CertificateMutations,
    ComplaintMutations,
    ObjectionMutations,
    RepairMutations,
    CommitmentMutations,
    CourtDocumentMutations,
    TypicalCaseMutations,
    AssociationMutations,
    CaseMutations,
):
    pass


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    config=StrawberryConfig(disable_field_suggestions=True),
    # Classes, not instances: Strawberry builds one per operation.
    extensions=[CodedErrors, AuditTrail, ParserCache, ValidationCache],
)


@cache
def graphql_schema() -> GraphQLSchema:
    """The schema as graphql-core sees it, for checks that read it without running it (request
    guards, validation of registered documents, the role contracts). Built from the SDL
    Strawberry prints (what ``strawberry export-schema`` writes), so nothing reaches into
    Strawberry's private attributes."""
    return build_schema(schema.as_str())

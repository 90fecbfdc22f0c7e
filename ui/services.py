"""The services the UI uses, built once by the composition root and injected into widgets."""

from __future__ import annotations

from dataclasses import dataclass

from kit_app.db import Store
from kit_app.evidence.service import EvidenceService
from kit_app.services.casefile import CaseFileService
from kit_app.services.cases import CaseService
from kit_app.services.courtpack import CourtPackService
from kit_app.services.documents import DocumentService
from kit_app.services.importer import ImportService
from kit_app.services.inspections import InspectionService
from kit_app.services.lifecycle import CaseLifecycle
from kit_app.services.officers import OfficerService
from kit_app.services.projects import ProjectService
from kit_app.services.search import SearchService
from kit_app.services.sources import SourceService


@dataclass
class Services:
    store: Store
    officers: OfficerService
    sources: SourceService
    search: SearchService
    projects: ProjectService
    cases: CaseService
    importer: ImportService
    evidence: EvidenceService
    documents: DocumentService
    lifecycle: CaseLifecycle
    inspections: InspectionService
    casefile: CaseFileService
    courtpack: CourtPackService

    @classmethod
    def build(cls, store: Store) -> Services:
        return cls(
            store=store,
            officers=OfficerService(store),
            sources=SourceService(store),
            search=SearchService(store),
            projects=ProjectService(store),
            cases=CaseService(store),
            importer=ImportService(store),
            evidence=(ev := EvidenceService(store)),
            documents=(docs := DocumentService(store, ev)),
            lifecycle=CaseLifecycle(store),
            inspections=InspectionService(store),
            casefile=CaseFileService(store, docs),
            courtpack=CourtPackService(store, docs),
        )

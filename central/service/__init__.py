"""What the central server does, independent of HTTP, one module per concern: administration
(agencies, officers, enrolment, kits), push (records and custody events), blobs (uploaded
originals), feed (what kits pull), officers (sessions on the server); common holds what they share."""

from central.service.admin import Central, upgrade_data
from central.service.blobs import CHUNK_LIMIT, BlobStore
from central.service.common import CentralError, next_seq
from central.service.feed import PULL_LIMIT, Feed
from central.service.officers import Officers
from central.service.push import Push
from central.service.witness import Witness

__all__ = ["CHUNK_LIMIT", "PULL_LIMIT", "BlobStore", "Central", "CentralError", "Feed", "Officers", "Push", "Witness",
           "next_seq", "upgrade_data"]

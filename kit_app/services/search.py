"""Finding pollution sources in milliseconds among hundreds of thousands.

Tiers, best first: exact credit code / permit number / name; name prefix; pinyin initials or full
pinyin prefix (``nnsqx`` → 南宁市青秀区…); then substring matches through the FTS5 trigram index
(name, codes, pinyin, address). Queries shorter than a trigram use the indexed prefix tiers and a
bounded scan. Each tier is bounded, so a query that matches everything costs no more than one that
matches a little.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import Connection

from kit_app.db import Store
from kit_app.dto import SourceRow

MAX_LIMIT = 500
_CANDIDATES = 400  # substring candidates examined per query
_HIGH = "\U0010ffff"
_ASCII_WORD = re.compile(r"^[a-z0-9]+$")
_PINYIN = re.compile(r"^[a-z]+$")

# match kinds, in order of preference
EXACT, NAME_PREFIX, PINYIN_PREFIX, NAME_CONTAINS, PINYIN_CONTAINS, CODE_CONTAINS, ADDRESS = range(7)
MATCH_NAMES = ("exact", "name_prefix", "pinyin_prefix", "name", "pinyin", "code", "address")


def normalise_query(q: str) -> str:
    q = unicodedata.normalize("NFKC", q)
    return " ".join(q.split())


@dataclass(frozen=True)
class Hit:
    row: SourceRow
    match: str


def _escape_like(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SearchService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def search(self, query: str, limit: int = 50) -> list[Hit]:
        q = normalise_query(query)
        if not q:
            return []
        limit = max(1, min(limit, MAX_LIMIT))
        ql = q.lower()
        qu = q.upper()
        compact = ql.replace(" ", "")
        is_ascii = bool(_ASCII_WORD.match(compact))
        best: dict[int, int] = {}

        def offer(rids: list[int], kind: int) -> None:
            for rid in rids:
                if best.get(rid, 99) > kind:
                    best[rid] = kind

        with self.store.engine.connect() as conn:
            ex = conn.exec_driver_sql
            offer(
                [
                    r[0]
                    for r in ex(
                        "SELECT rid FROM sources WHERE credit_code = ? OR permit_no = ? "
                        "OR permit_no = ? OR name = ? LIMIT ?",
                        (qu, qu, q, q, limit),
                    )
                ],
                EXACT,
            )
            offer(
                [
                    r[0]
                    for r in ex(
                        "SELECT rid FROM sources WHERE name >= ? AND name < ? ORDER BY name LIMIT ?",
                        (q, q + _HIGH, limit),
                    )
                ],
                NAME_PREFIX,
            )
            if compact.isalnum() and compact.isascii() and len(compact) >= 4:
                for col in ("credit_code", "permit_no"):
                    offer(
                        [
                            r[0]
                            for r in ex(
                                f"SELECT rid FROM sources WHERE {col} >= ? AND {col} < ? "
                                f"ORDER BY {col} LIMIT ?",
                                (qu, qu + "\x7f", limit),
                            )
                        ],
                        CODE_CONTAINS,
                    )
            if is_ascii:
                for col in ("name_abbr", "name_py"):
                    offer(
                        [
                            r[0]
                            for r in ex(
                                f"SELECT rid FROM sources WHERE {col} >= ? AND {col} < ? "
                                f"ORDER BY {col} LIMIT ?",
                                (compact, compact + "\x7f", limit),
                            )
                        ],
                        PINYIN_PREFIX,
                    )
            exact_code = any(k == EXACT for k in best.values()) and len(compact) >= 15
            if len(best) < limit and not exact_code:
                # a full credit code or permit number that matched is the answer; otherwise
                # look inside names and addresses too
                self._substring(conn, q, ql, qu, compact, is_ascii, best, limit)

            if not best:
                return []
            # fetch what ranking and display need, for the candidates only
            rids = list(best)
            rows = {}
            for i in range(0, len(rids), 900):
                chunk = rids[i : i + 900]
                marks = ",".join("?" * len(chunk))
                for r in ex(
                    "SELECT s.rid, s.id, s.name, s.credit_code, a.division_name, s.address, "
                    "s.industry, s.key_monitored, s.name_abbr, s.name_py, s.permit_no "
                    f"FROM sources s LEFT JOIN agencies a ON a.id = s.county_id WHERE s.rid IN ({marks})",
                    tuple(chunk),
                ):
                    rows[r[0]] = r

        def refine(rid: int) -> int:
            kind = best[rid]
            if kind < NAME_CONTAINS:
                return kind
            r = rows[rid]
            if q in r[2] or ql in r[2].lower():
                return NAME_CONTAINS
            if is_ascii and (compact in (r[8] or "") or compact in (r[9] or "")):
                return PINYIN_CONTAINS
            if qu in (r[3] or "") or qu in (r[10] or "").upper():
                return CODE_CONTAINS
            return ADDRESS

        scored = []
        for rid, r in rows.items():
            kind = refine(rid)
            pos = r[2].find(q)
            scored.append((kind, pos if pos >= 0 else 999, len(r[2]), r[2], rid))
        scored.sort()
        hits = []
        for n, (kind, _pos, _len, _name, rid) in enumerate(scored[:limit], start=1):
            r = rows[rid]
            hits.append(
                Hit(
                    row=SourceRow(
                        id=r[1],
                        name=r[2],
                        credit_code=r[3],
                        county=r[4],
                        address=r[5],
                        industry=r[6],
                        key_monitored=bool(r[7]),
                        rank=float(n),
                    ),
                    match=MATCH_NAMES[kind],
                )
            )
        return hits

    def _substring(
        self,
        conn: Connection,
        q: str,
        ql: str,
        qu: str,
        compact: str,
        is_ascii: bool,
        best: dict[int, int],
        limit: int,
    ) -> None:
        ex = conn.exec_driver_sql
        if len(q) >= 3:
            phrase = '"' + q.replace('"', '""') + '"'
            found = [
                r[0]
                for r in ex(
                    "SELECT rowid FROM sources_fts WHERE sources_fts MATCH ? LIMIT ?",
                    (phrase, _CANDIDATES),
                )
            ]
            for rid in found:
                best.setdefault(rid, ADDRESS)
            if _PINYIN.match(compact) and len(best) < limit:
                # full pinyin anywhere in the name (qingxiu → 南宁市青秀区…), bounded
                like = "%" + _escape_like(compact) + "%"
                for r in ex(
                    "SELECT rid FROM sources WHERE name_py LIKE ? ESCAPE '\\' LIMIT ?",
                    (like, _CANDIDATES),
                ):
                    best.setdefault(r[0], PINYIN_CONTAINS)
            return
        like = "%" + _escape_like(q) + "%"
        found = [
            r[0]
            for r in ex(
                "SELECT rid FROM sources WHERE name LIKE ? ESCAPE '\\' LIMIT ?",
                (like, limit),
            )
        ]
        for rid in found:
            best.setdefault(rid, NAME_CONTAINS)
        if is_ascii:
            like = "%" + _escape_like(compact) + "%"
            for r in ex(
                "SELECT rid FROM sources WHERE name_abbr LIKE ? ESCAPE '\\' LIMIT ?",
                (like, limit),
            ):
                best.setdefault(r[0], PINYIN_CONTAINS)

"""Load and validate config/sources.yaml, regions.yaml and taxonomy.yaml.

A wrong file stops the start with one message naming the file, the entry and the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from aggregator.mail import valid_address
from crawlers.source import SLUG_PATTERN, SourceConfig


class ConfigError(Exception):
    """A configuration file is missing or invalid; the message names file, entry and reason."""

    def __init__(self, path: Path | str, reason: str, entry: str | None = None) -> None:
        self.path = str(path)
        self.entry = entry
        self.reason = reason
        where = f"{self.path}: {entry}: " if entry else f"{self.path}: "
        super().__init__(where + reason)


class Region(BaseModel):
    """A region: member municipalities (CBS code -> name) and/or other regions it includes."""

    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=SLUG_PATTERN)
    name: str
    name_en: str | None = None
    code: str | None = None
    description: str | None = None
    municipalities: dict[str, str] = Field(default_factory=dict)
    includes: list[str] = Field(default_factory=list)


class Regions:
    """All regions, with composite regions resolved to their member municipalities."""

    def __init__(self, regions: list[Region]) -> None:
        self.by_slug: dict[str, Region] = {r.slug: r for r in regions}
        self._members: dict[str, frozenset[str]] = {}
        for slug in self.by_slug:
            self._members[slug] = frozenset(self._resolve(slug, ()))
        # the "home" region of a municipality: the first partition region listing it
        self.home_of: dict[str, str] = {}
        for region in regions:
            for code in region.municipalities:
                self.home_of.setdefault(code, region.slug)

    def _resolve(self, slug: str, seen: tuple[str, ...]) -> set[str]:
        if slug in seen:
            raise ValueError(f"region {slug!r} includes itself via {' -> '.join(seen)}")
        region = self.by_slug[slug]
        members = set(region.municipalities)
        for child in region.includes:
            members |= self._resolve(child, (*seen, slug))
        return members

    def members(self, slug: str) -> frozenset[str]:
        """Return the CBS codes of the municipalities in a region (composites resolved)."""
        return self._members[slug]

    def __contains__(self, slug: object) -> bool:
        return slug in self.by_slug

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.by_slug.values())


class TaxonomyTerm(BaseModel):
    """One value of a taxonomy field with labels and matching keywords."""

    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=SLUG_PATTERN)
    nl: str
    en: str
    keywords: list[str] = Field(default_factory=list)
    # keywords that count in the title only (in a description they name something else)
    title_keywords: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    # the term applies only when one of these also occurs (e.g. "open dag" of a training)
    requires: list[str] = Field(default_factory=list)
    priority: int = 0


class PhaseRule(BaseModel):
    """Phases for events whose title has one of the keywords (optionally of some types)."""

    model_config = ConfigDict(extra="forbid")

    keywords: list[str]
    phases: list[str]
    activity_types: list[str] = Field(default_factory=list)


class ImpliedRule(BaseModel):
    """Values a kind of event implies beyond the words for the values themselves.

    When title or description has one of ``keywords``, ``values`` are added to the field
    ("an open day is for students too"); with ``only_when_empty`` they only fill a field
    that neither the text nor the source named ("a job fair is for every sector").
    """

    model_config = ConfigDict(extra="forbid")

    keywords: list[str]
    values: list[str]
    only_when_empty: bool = False
    title_only: bool = False  # the keywords count in the title only


class Taxonomy(BaseModel):
    """The vocabularies of DESIGN.md plus the relevance rules (data, not code)."""

    model_config = ConfigDict(extra="forbid")

    activity_types: list[TaxonomyTerm]
    sectors: list[TaxonomyTerm]
    phases: list[TaxonomyTerm]
    audiences: list[TaxonomyTerm]
    relevance: dict[str, list[str]] = Field(default_factory=dict)
    attendance: dict[str, list[str]] = Field(default_factory=dict)
    phase_by_activity: dict[str, list[str]] = Field(default_factory=dict)
    # klantreis phases by title words, before phase_by_activity (first rule that matches)
    phase_rules: list[PhaseRule] = Field(default_factory=list)
    # values of a field when neither the text nor the source names any ({} = stay empty)
    unspecified: dict[str, list[str]] = Field(default_factory=dict)
    # the activity type an online-only event of a type becomes (voorlichting -> webinar)
    online_activity: dict[str, str] = Field(default_factory=dict)
    # sectors / audiences implied by the kind of event (see ImpliedRule)
    implied: dict[str, list[ImpliedRule]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _implied_values_are_known(self) -> Taxonomy:
        for field, rules in self.implied.items():
            if field not in ("sectors", "audiences"):
                raise ValueError(f"implied: {field!r} is not sectors or audiences")
            known = set(self.slugs(field))
            for rule in rules:
                unknown = sorted(set(rule.values) - known)
                if unknown:
                    raise ValueError(f"implied {field}: unknown values {unknown}")
        return self

    def slugs(self, field: str) -> list[str]:
        """Return the slugs of one field (activity_types, sectors, phases, audiences)."""
        return [term.slug for term in getattr(self, field)]


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> Any:
    if not path.is_file():
        raise ConfigError(path, "file not found")
    try:
        # libyaml's parser: the same safe loading, a tenth of the time on the regions file
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        raise ConfigError(path, f"not valid YAML: {getattr(exc, 'problem', exc)}", where) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(path, f"not UTF-8 text: {exc.reason}") from exc


def _explain(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"])
        parts.append(f"{loc}: {error['msg']}" if loc else error["msg"])
    return "; ".join(parts)


def load_regions(path: Path) -> Regions:
    """Load regions.yaml; raise ConfigError naming the entry on any problem."""
    data = _read_yaml(path)
    items = data.get("regions") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ConfigError(path, "expected a mapping with a 'regions' list")
    regions: list[Region] = []
    for index, item in enumerate(items):
        label = f"entry {index + 1}" + (f" ({item.get('slug')})" if isinstance(item, dict) else "")
        try:
            regions.append(Region.model_validate(item))
        except ValidationError as exc:
            raise ConfigError(path, _explain(exc), label) from exc
    slugs = [r.slug for r in regions]
    for region in regions:
        if slugs.count(region.slug) > 1:
            raise ConfigError(path, "slug is used twice", f"region {region.slug}")
        for child in region.includes:
            if child not in slugs:
                raise ConfigError(
                    path, f"includes unknown region {child!r}", f"region {region.slug}"
                )
    try:
        return Regions(regions)
    except ValueError as exc:
        raise ConfigError(path, str(exc)) from exc


def load_taxonomy(path: Path) -> Taxonomy:
    """Load taxonomy.yaml; raise ConfigError naming the entry on any problem."""
    data = _read_yaml(path)
    try:
        return Taxonomy.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(path, _explain(exc)) from exc


def load_sources(
    path: Path, regions: Regions, taxonomy: Taxonomy | None = None
) -> list[SourceConfig]:
    """Load sources.yaml, check regions and taxonomy slugs; raise ConfigError on any problem."""
    data = _read_yaml(path)
    if isinstance(data, dict) and "sources" in data:
        data = data["sources"]
    if data is None:
        data = []
    if not isinstance(data, list):
        raise ConfigError(path, "expected a list of sources")
    sources: list[SourceConfig] = []
    seen: set[str] = set()
    for index, item in enumerate(data):
        label = f"entry {index + 1}"
        if isinstance(item, dict) and item.get("id"):
            label += f" ({item['id']})"
        if not isinstance(item, dict):
            raise ConfigError(path, "expected a mapping", label)
        try:
            source = SourceConfig.model_validate({**item, "base_dir": path.resolve().parent})
        except ValidationError as exc:
            raise ConfigError(path, _explain(exc), label) from exc
        if source.id in seen:
            raise ConfigError(path, f"source id {source.id!r} is used twice", label)
        seen.add(source.id)
        if source.region not in regions:
            known = ", ".join(sorted(r.slug for r in regions))
            raise ConfigError(
                path, f"unknown region {source.region!r}; known regions: {known}", label
            )
        if taxonomy is not None:
            _check_defaults(path, label, source, taxonomy)
        source.contacts = _contacts(path, label, source.contacts)
        if source.kind == "selectors" and not source.selectors:
            raise ConfigError(path, "kind 'selectors' needs a 'selectors' mapping or file", label)
        sources.append(source)
    return sources


def _contacts(path: Path, label: str, contacts: list[str]) -> list[str]:
    """The contacts as bare addresses; a ConfigError for any that is not one address."""
    checked = []
    for contact in contacts:
        try:
            checked.append(valid_address(contact))
        except ValueError:
            raise ConfigError(
                path, f"contact {contact!r} is not one e-mail address", label
            ) from None
    return list(dict.fromkeys(checked))


def _check_defaults(path: Path, label: str, source: SourceConfig, taxonomy: Taxonomy) -> None:
    checks = {
        "sectors": (source.defaults.sectors, taxonomy.slugs("sectors")),
        "audiences": (source.defaults.audiences, taxonomy.slugs("audiences")),
        "phases": (source.defaults.phases, taxonomy.slugs("phases")),
        "activity_type": (
            [source.defaults.activity_type] if source.defaults.activity_type else [],
            taxonomy.slugs("activity_types"),
        ),
    }
    for field, (values, allowed) in checks.items():
        for value in values:
            if value not in allowed:
                raise ConfigError(
                    path,
                    f"defaults.{field}: unknown value {value!r}; allowed: {', '.join(allowed)}",
                    label,
                )


class AppConfig(BaseModel):
    """Everything loaded from the three config files."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    sources_path: Path
    sources: list[SourceConfig]
    regions: Regions
    taxonomy: Taxonomy

    def source(self, source_id: str) -> SourceConfig:
        """Return the source with this id, or raise KeyError."""
        for source in self.sources:
            if source.id == source_id:
                return source
        raise KeyError(source_id)


def load_config(sources_path: Path, regions_path: Path, taxonomy_path: Path) -> AppConfig:
    """Load and cross-check the three config files."""
    regions = load_regions(regions_path)
    taxonomy = load_taxonomy(taxonomy_path)
    sources = load_sources(sources_path, regions, taxonomy)
    return AppConfig(sources_path=sources_path, sources=sources, regions=regions, taxonomy=taxonomy)

"""Property values as JSON and back, every Neo4j type kept: a date stays a date, bytes stay bytes.

JSON has strings, numbers, booleans and lists, which carry most values as they are. The rest
become a one-key object naming the type (``{"date": "2026-05-06"}``): a property value is
never a map in Neo4j, so an object in a backup is always one of these.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytz
from neo4j.spatial import CartesianPoint, Point, WGS84Point
from neo4j.time import Date, DateTime, Duration, Time

Props = dict[str, Any]


class BadValue(ValueError):
    """A value in a backup file that is not one this module writes."""


def _zone(value: DateTime | Time) -> tuple[str, str | None]:
    """The value in ISO form and its named zone, if it has one (an offset is in the text)."""
    tz = value.tzinfo
    name = getattr(tz, "zone", None) or getattr(tz, "key", None)
    return value.iso_format(), name if isinstance(name, str) and name != "UTC" else None


def encode(value: Any) -> Any:
    """A property value as JSON."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes | bytearray):
        return {"bytes": base64.b64encode(value).decode()}
    if isinstance(value, DateTime):
        text, zone = _zone(value)
        return {"datetime": text, "zone": zone} if zone else {"datetime": text}
    if isinstance(value, Date):
        return {"date": value.iso_format()}
    if isinstance(value, Time):
        return {"time": value.iso_format()}
    if isinstance(value, Duration):
        return {"duration": [value.months, value.days, value.seconds, value.nanoseconds]}
    if isinstance(value, Point):
        return {"point": [value.srid, *value]}
    if isinstance(value, list | tuple):  # after Duration and Point, which are tuples too
        return [encode(item) for item in value]
    raise TypeError(f"no backup form for a {type(value).__name__} property")


def _datetime(text: str, zone: str | None = None) -> DateTime:
    value = DateTime.from_iso_format(text)
    if zone is None:
        return value
    # The same instant in its named zone, as the driver itself gives it: a pytz zone (the
    # driver's dependency); it crashes on a ``zoneinfo`` zone on its own DateTime type.
    return value.as_timezone(pytz.timezone(zone))


def _point(parts: list[float]) -> Point:
    srid, *coords = parts
    kind = WGS84Point if int(srid) in (4326, 4979) else CartesianPoint
    return kind(coords)


_DECODERS: dict[str, Callable[..., Any]] = {
    "bytes": lambda text: base64.b64decode(text),
    "date": Date.from_iso_format,
    "time": Time.from_iso_format,
    "duration": lambda parts: Duration(
        months=parts[0], days=parts[1], seconds=parts[2], nanoseconds=parts[3]
    ),
    "point": _point,
}


def decode(value: Any) -> Any:
    """A property value from its JSON form; :class:`BadValue` for anything else."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict) or not value:
        raise BadValue(f"not a property value: {value!r:.80}")
    try:
        if "datetime" in value:
            return _datetime(value["datetime"], value.get("zone"))
        ((kind, payload),) = value.items()
        return _DECODERS[kind](payload)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise BadValue(f"not a property value: {value!r:.80} ({exc})") from None


def encode_props(props: Props) -> Props:
    return {key: encode(value) for key, value in props.items()}


def decode_props(props: Any) -> Props:
    if not isinstance(props, dict):
        raise BadValue(f"properties must be an object, not {props!r:.80}")
    return {str(key): decode(value) for key, value in props.items()}

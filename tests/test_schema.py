"""Reading back aekit's JSON documents (aekit._schema): a damaged, hand-edited or newer file ends in one
line naming the file and the field, never in a KeyError deep inside."""

import pytest

from aekit._schema import check_format, field, numbers_list, parse_json
from aekit._version import version
from aekit.errors import ModelFileError, RunError

WHERE = "runs/x/settings.json"


def message(call, *args, **kwargs):
    with pytest.raises(RunError) as info:
        call(*args, **kwargs)
    return str(info.value)


def test_a_json_object_is_read_and_anything_else_is_a_damaged_file():
    assert parse_json('{"epochs": 3}', WHERE, RunError) == {"epochs": 3}
    assert parse_json(b'{"a": [1, 2]}', WHERE, RunError) == {"a": [1, 2]}
    assert message(parse_json, '{"epochs": 3,\n', WHERE, RunError) == (
        f"{WHERE}: not valid JSON at line 2; the file is damaged — restore it or start the run again"
    )
    assert message(parse_json, b'{"a": "\xff"}', WHERE, RunError).startswith(f"{WHERE}: not valid JSON;")
    assert message(parse_json, "[1, 2]", WHERE, RunError) == (
        f"{WHERE}: expected a JSON object, found list; the file is damaged"
    )
    with pytest.raises(ModelFileError):  # the caller picks the error a user sees
        parse_json("", "model.keras/aekit.json", ModelFileError)


def test_format_version_absent_means_an_old_file_and_a_newer_one_asks_for_an_upgrade():
    assert check_format({}, WHERE, RunError, current=2) == 0
    assert check_format({"format_version": 2}, WHERE, RunError, current=2) == 2
    newer = message(check_format, {"format_version": 3, "aekit_version": "9.0"}, WHERE, RunError, current=2)
    assert newer == (
        f"{WHERE}: written by aekit 9.0 (format 3); this is aekit {version()} (format 2): upgrade aekit to read it"
    )
    for bad in (True, "1", -1, 1.0):
        refused = message(check_format, {"format_version": bad}, WHERE, RunError, 2)
        assert "field 'format_version' must be a whole number" in refused


def test_a_field_is_checked_by_kind_and_names_itself_when_wrong():
    document = {"epochs": 3, "rate": 1, "name": "dense", "flag": True, "nothing": None}
    assert field(document, "epochs", int, WHERE, RunError) == 3
    assert field(document, "rate", float, WHERE, RunError) == 1  # a whole number is a number
    assert field(document, "name", (str, type(None)), WHERE, RunError) == "dense"
    assert field(document, "missing", int, WHERE, RunError, optional=True, default=7) == 7
    assert field(document, "nothing", int, WHERE, RunError, optional=True, default=7) == 7
    assert message(field, document, "missing", int, WHERE, RunError) == (
        f"{WHERE}: field 'missing' is missing; the file is damaged or was not written by aekit"
    )
    flag = f"{WHERE}: field 'flag' must be"
    assert message(field, document, "flag", int, WHERE, RunError) == f"{flag} a whole number, got True"
    assert message(field, document, "flag", float, WHERE, RunError) == f"{flag} a number, got True"
    assert message(field, document, "name", (int, list), WHERE, RunError) == (
        f"{WHERE}: field 'name' must be a whole number or a list, got 'dense'"
    )
    long = message(field, {"x": "y" * 500}, "x", int, WHERE, RunError)
    assert len(long) < 200  # a huge value is cut short, the message stays one readable line


def test_a_list_of_numbers_per_epoch():
    assert numbers_list([1, 0.5, 2.25], "loss", WHERE, RunError) == [1.0, 0.5, 2.25]
    assert numbers_list([], "loss", WHERE, RunError) == []
    for bad in ([1, "2"], [True], "0.5", None):
        assert message(numbers_list, bad, "loss", WHERE, RunError) == f"{WHERE}: field 'loss' must be a list of numbers"

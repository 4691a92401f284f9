import pytest
from hypothesis import given
from hypothesis import strategies as st

from a2a_temporal.core.names import validate_object_name

SAFE_SEGMENT = st.text(
    alphabet=st.characters(
        min_codepoint=33,
        max_codepoint=0x2FFF,
        exclude_characters="/\\",
        exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp"),
    ),
    min_size=1,
    max_size=12,
).filter(lambda s: s not in (".", ".."))


@given(st.lists(SAFE_SEGMENT, min_size=1, max_size=5))
def test_safe_relative_names_are_accepted(segments: list[str]) -> None:
    name = "/".join(segments)
    assert validate_object_name(name) == name


@given(st.text(max_size=40))
def test_accepted_names_never_escape(name: str) -> None:
    try:
        validate_object_name(name)
    except ValueError:
        return
    assert not name.startswith("/")
    assert ".." not in name.split("/")
    assert all(ord(ch) >= 32 for ch in name)


def test_overlong_name_is_refused() -> None:
    with pytest.raises(ValueError, match="longer than 512 bytes"):
        validate_object_name("a" * 513)

"""``interrupt(response_schema=...)``'s check of an answer (``graphpool._resume_schema``)."""

from __future__ import annotations

import pytest

from graphpool import errors


def test_is_invalid_resume_tells_a_schema_refused_answer_from_other_errors() -> None:
    pydantic = pytest.importorskip("pydantic")
    from graphpool._resume_schema import validator

    class Answer(pydantic.BaseModel):
        ok: bool

    schema, validate = validator(Answer)
    assert schema["required"] == ["ok"]
    assert validate({"ok": "yes"}) == Answer(ok=True)
    with pytest.raises(pydantic.ValidationError) as caught:
        validate({"ok": "perhaps"})
    assert errors.is_invalid_resume(caught.value)
    try:
        Answer(ok="perhaps")
    except pydantic.ValidationError as own:
        assert not errors.is_invalid_resume(own)

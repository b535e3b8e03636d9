"""Which job a deployment names: `clearway_job` in its payload, however GitHub passes it."""

import pytest
from django.core.exceptions import ValidationError

from integrations.models import GitHubEnvironmentMapping
from integrations.selectors import requested_job_id


@pytest.mark.parametrize(
    "payload, expected",
    [
        ({"clearway_job": 42}, 42),
        ({"clearway_job": "42"}, 42),
        ({"clearway_job": "#42"}, 42),
        ('{"clearway_job": 42}', 42),
        ("", None),
        ({}, None),
        (None, None),
        ("not json", None),
        ("[" * 100_000 + "]" * 100_000, None),
        ({"other": 1}, None),
    ],
)
def test_the_job_number_is_read_from_an_object_or_a_json_string(payload, expected):
    assert requested_job_id({"payload": payload}) == expected


@pytest.mark.parametrize("value", [True, -3, "42; drop", "4.2", "9" * 30, [42], "²", "٤٢", "4 2"])
def test_a_value_that_is_not_a_job_number_is_explained(value):
    answer = requested_job_id({"payload": {"clearway_job": value}})

    assert isinstance(answer, str)
    assert "is not a job number" in answer


@pytest.mark.django_db
@pytest.mark.parametrize(
    "repository", ["https://github.com/uni/grading", "uni", "uni/grading/tree/main", "uni/ grading"]
)
def test_a_mapping_names_its_repository_as_owner_slash_name(repository):
    mapping = GitHubEnvironmentMapping(repository=repository, environment="production")

    with pytest.raises(ValidationError) as refused:
        mapping.full_clean()

    assert "repository" in refused.value.message_dict

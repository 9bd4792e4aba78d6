"""Per-index field resolution from a `_field_caps` answer (the shapes real clusters mix)."""

from __future__ import annotations

from elastic_cli.search.fields import FieldPolicy, display_index, resolve_shapes

SAMPLE, ECS, HOME, BARE = "kibana_sample_data_logs", ".ds-logs-shop-default-2026.11.29-000001", "app-home", "app-bare"
ALL = [SAMPLE, ECS, HOME, BARE]

# What Elasticsearch answers for fields=message,utc_time,tags,@timestamp,timestamp,log.level,level,severity
# with include_unmapped=true over the four shapes ("indices" lists only when types differ).
CAPS = {
    "indices": ALL,
    "fields": {
        "message": {"text": {"type": "text"}},
        "utc_time": {"date": {"type": "date", "indices": [SAMPLE]},
                     "unmapped": {"type": "unmapped", "indices": [ECS, HOME, BARE]}},
        "@timestamp": {"date": {"type": "date", "indices": [ECS]},
                       "unmapped": {"type": "unmapped", "indices": [SAMPLE, HOME, BARE]}},
        "timestamp": {"date_nanos": {"type": "date_nanos", "indices": [HOME]},
                      "unmapped": {"type": "unmapped", "indices": [SAMPLE, ECS, BARE]}},
        "tags": {"keyword": {"type": "keyword", "indices": [SAMPLE]},
                 "unmapped": {"type": "unmapped", "indices": [ECS, HOME, BARE]}},
        "log.level": {"keyword": {"type": "keyword", "indices": [ECS]},
                      "unmapped": {"type": "unmapped", "indices": [SAMPLE, HOME, BARE]}},
        "level": {"text": {"type": "text", "indices": [HOME]},
                  "unmapped": {"type": "unmapped", "indices": [SAMPLE, ECS, BARE]}},
        "severity": {"long": {"type": "long", "indices": [BARE]},
                     "unmapped": {"type": "unmapped", "indices": [SAMPLE, ECS, HOME]}},
    },
}


def test_each_shape_gets_its_own_time_and_level_field():
    shapes = {s.index: (s.time_field, s.level_field) for s in resolve_shapes(CAPS, FieldPolicy())}
    assert shapes == {
        SAMPLE: ("utc_time", "tags"),
        ECS: ("@timestamp", "log.level"),
        HOME: ("timestamp", "level"),
        BARE: (None, None),  # a numeric severity is no level word
    }


def test_fields_the_user_set_are_never_replaced():
    policy = FieldPolicy(time_field="utc_time", tags_field="tags", time_explicit=True, level_explicit=True)
    shapes = {s.index: (s.time_field, s.level_field) for s in resolve_shapes(CAPS, policy)}
    assert shapes[ECS] == (None, None) and shapes[SAMPLE] == ("utc_time", "tags")
    assert "@timestamp" not in policy.fields_to_ask() and "log.level" not in policy.fields_to_ask()


def test_a_data_stream_backing_index_is_shown_by_its_stream_name():
    assert display_index(ECS) == "logs-shop-default"
    assert display_index(".ds-logs-a-b-c-2024.01.02-000123") == "logs-a-b-c"
    assert display_index("app-logs-2024.01.02") == "app-logs-2024.01.02"
    assert display_index(".ds-not-a-backing-index") == ".ds-not-a-backing-index"


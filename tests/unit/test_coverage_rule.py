"""Coverage: what a result lacks, said by one rule (pure)."""

from __future__ import annotations

from elastic_cli.search.coverage import Coverage, LeftOut


def test_a_whole_result_has_no_missing_reason_and_no_error():
    coverage = Coverage(indices_searched=3, shards_total=4, shards_skipped=2, undated_lines=1,
                        more_beyond_limit=True, left_out=[LeftOut("app-bare", "no field message")])
    assert not coverage.missing() and coverage.partial_error() is None


def test_each_kind_of_loss_is_a_reason_and_the_error_names_the_first():
    coverage = Coverage(shards_total=5, shards_failed=1, failure="app[0]: boom", timed_out=2,
                        left_out=[LeftOut("app-bare", "no level field", lines=3)], stopped="point in time lost")
    reasons = coverage.missing()
    assert len(reasons) == 4
    assert "1 of 5 shards failed" in reasons[0] and "app[0]: boom" in reasons[0]
    assert "timed out" in reasons[1] and "2 pages" in reasons[1]
    assert "3 lines of this session in app-bare" in reasons[2]
    error = coverage.partial_error()
    assert error is not None and error.exit_code == 13
    assert error.message.startswith(reasons[0]) and "3 more reasons" in error.message


def test_a_timeout_alone_points_at_the_cluster_setting():
    error = Coverage(timed_out=1).partial_error()
    assert error is not None and "search.default_search_timeout" in (error.hint or "")


def test_sessions_name_the_marked_lines_an_index_left_out_holds():
    coverage = Coverage(left_out=[LeftOut("app-bare", "no date field", lines=2, of_session=False),
                                  LeftOut("app-other", "no level field", lines=None, of_session=False),
                                  LeftOut("app-empty", "no level field", lines=0, of_session=False)])
    assert coverage.missing() == [
        "2 marked lines in app-bare not counted: no date field",
        "app-other may hold marked lines that were not counted (they could not be counted): no level field"]


def test_only_an_index_without_a_level_field_is_told_to_use_all_levels():
    from elastic_cli.search.analysis import UNSEARCHABLE
    from elastic_cli.search.coverage import NO_LEVEL
    from elastic_cli.search.session_logs import UNMAPPED

    unlevelled = Coverage(left_out=[LeftOut("app-bare", NO_LEVEL, lines=3)]).partial_error()
    assert unlevelled is not None and "--all-levels" in (unlevelled.hint or "")
    for reason in (UNSEARCHABLE, UNMAPPED):  # --all-levels would show none of their lines either
        error = Coverage(left_out=[LeftOut("app-ws", reason, lines=None)]).partial_error()
        assert error is not None and "--all-levels" not in (error.hint or "")
        assert "leave them out of --indexes" in (error.hint or ""), error.hint

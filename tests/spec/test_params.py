import pytest
from asfl.spec import Params, ParamsError
from asfl.spec.params import cluster_sizes, quorum_conditions


def test_defaults_follow_protocol_section_2():
    p = Params(n_c=8, t_c=1, n_a=4, t_a=1)
    assert p.T == 3  # n_a - t_a
    assert p.k == (2, 2, 2, 2)
    assert p.m == 1  # min k_i - t_c
    assert p.sigma == p.z * p.clip
    assert p.certificate_size == 2 and p.progress_quorum == 3


def test_cluster_sizes_differ_by_at_most_one_and_cover_everyone():
    for n_c in range(1, 60):
        for n_a in range(1, n_c + 1):
            k = cluster_sizes(n_c, n_a)
            assert sum(k) == n_c and max(k) - min(k) <= 1


@pytest.mark.parametrize(
    "kwargs, condition, numbers",
    [
        (dict(n_c=8, t_c=1, n_a=4, t_a=1, T=1), "Q1 mask privacy", "T=1, t_a=1"),
        (dict(n_c=8, t_c=1, n_a=4, t_a=1, T=2), "Q2 set uniqueness", "2*T=4, n_a+t_a=5"),
        (dict(n_c=8, t_c=1, n_a=4, t_a=1, T=4), "Q3 unmask liveness", "T=4, n_a-t_a=3"),
        (dict(n_c=9, t_c=0, n_a=3, t_a=1), "Q2 set uniqueness", "2*T=4, n_a+t_a=4"),
        (dict(n_c=8, t_c=2, n_a=4, t_a=1), "Q5 cluster fill", "m=0, min_i k_i=2, t_c=2"),
        (dict(n_c=8, t_c=1, n_a=4, t_a=1, m=2), "Q5 cluster fill", "m=2, min_i k_i=2, t_c=1"),
    ],
)
def test_refuses_broken_quorum_conditions_with_name_and_numbers(kwargs, condition, numbers):
    with pytest.raises(ParamsError) as e:
        Params(**kwargs)
    assert e.value.condition == condition
    assert numbers in str(e.value)


def test_q4_and_q6_are_named_when_they_alone_fail():
    conds = {c.name: c for c in quorum_conditions(n_c=12, t_c=0, n_a=6, t_a=2, T=5, m=2)}
    assert not conds["Q4 overlap"].holds and conds["Q6 certification"].holds
    conds = {c.name: c for c in quorum_conditions(n_c=4, t_c=0, n_a=2, t_a=1, T=1, m=1)}
    assert not conds["Q6 certification"].holds


def test_allow_unsafe_keeps_the_values_and_lists_violations():
    p = Params(n_c=8, t_c=1, n_a=4, t_a=1, T=2, allow_unsafe=True)
    assert p.T == 2
    assert [c.name for c in p.violations()] == ["Q2 set uniqueness"]


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(n_c=3, t_c=0, n_a=4, t_a=1),  # fewer clients than clusters
        dict(n_c=8, t_c=1, n_a=4, t_a=-1),
        dict(n_c=8, t_c=1, n_a=4, t_a=1, R=0),
        dict(n_c=8, t_c=1, n_a=4, t_a=1, T=9, allow_unsafe=True),
        dict(n_c=8.0, t_c=1, n_a=4, t_a=1),
    ],
)
def test_malformed_parameters_are_refused(kwargs):
    with pytest.raises(ParamsError) as e:
        Params(**kwargs)
    assert e.value.condition == "params"

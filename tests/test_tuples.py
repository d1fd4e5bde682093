"""ama.tuples.namedtuple behaves as collections.namedtuple for what ama uses."""

import collections
import pickle

import pytest

from ama.tuples import namedtuple

Ours = namedtuple("Point", "x y label", defaults=(None,))
Theirs = collections.namedtuple("Point", "x y label", defaults=(None,))


def test_construction_fields_and_defaults_match_collections():
    for args, kwargs in [((1, 2), {}), ((1, 2, "a"), {}), ((1,), {"y": 2}), ((), {"x": 1, "y": 2, "label": "b"})]:
        ours, theirs = Ours(*args, **kwargs), Theirs(*args, **kwargs)
        assert ours == theirs and tuple(ours) == tuple(theirs) and hash(ours) == hash(theirs)
        assert (ours.x, ours.y, ours.label) == (theirs.x, theirs.y, theirs.label)
        assert repr(ours) == repr(theirs)
        assert ours._asdict() == theirs._asdict()
    assert Ours._fields == Theirs._fields and Ours._field_defaults == Theirs._field_defaults
    assert Ours.__match_args__ == Theirs.__match_args__


def test_bad_construction_fails_as_collections_does():
    for args, kwargs in [((), {}), ((1, 2, 3, 4), {}), ((1, 2), {"z": 3}), ((1,), {"x": 1})]:
        with pytest.raises(TypeError):
            Theirs(*args, **kwargs)
        with pytest.raises(TypeError):
            Ours(*args, **kwargs)
    with pytest.raises(TypeError):
        Ours._make([1])
    with pytest.raises(ValueError):
        Ours(1, 2)._replace(z=3)


def test_make_replace_and_slots():
    p = Ours._make([1, 2, "c"])
    assert type(p) is Ours and p == (1, 2, "c")
    q = p._replace(y=5)
    assert type(q) is Ours and q == (1, 5, "c") and p == (1, 2, "c")
    with pytest.raises(AttributeError):
        p.other = 1
    with pytest.raises(AttributeError):
        p.x = 3


def test_pickles_by_module_and_name():
    from ama.statcheck import Change

    c = Change("a", "renamed", "b")
    assert Change.__module__ == "ama.statcheck"
    assert pickle.loads(pickle.dumps(c, protocol=pickle.HIGHEST_PROTOCOL)) == c
    assert type(pickle.loads(pickle.dumps(c))) is Change

"""Property tests (hypothesis) on the parsers people's spreadsheets go through."""

import functools
import unicodedata
from collections import Counter
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines import fr
from pipelines.sample.writers import fr_money
from pipelines.sources.orders.headers import KINDS, LABELS, header_key, match_header
from pipelines.sources.orders.parsers import CellError, parse_date, parse_int, parse_money, parse_response
from pipelines.sources.orders.readers import FileRejected, Limits, read_csv
from tests.reliability import record

CASES: Counter = Counter()  # examples hypothesis really ran, per test: the figure the README's table shows
LEAST_CASES = 100  # a property checked on fewer cases is not the claim the table makes


def counted(test):
    @functools.wraps(test)
    def run(*args, **kwargs):
        CASES[test.__name__] += 1
        return test(*args, **kwargs)
    return run


@pytest.fixture(scope="module", autouse=True)
def record_properties(request):
    failed = request.session.testsfailed
    yield
    if not CASES or request.session.testsfailed > failed:
        return
    assert min(CASES.values()) >= LEAST_CASES, dict(CASES)
    record("Propriétés (hypothesis)", f"montants, dates, en-têtes, lecteur CSV : {fr.number(sum(CASES.values()))} cas "
           f"générés ({len(CASES)} propriétés)", "relecture exacte des formats français ; aucune exception hors raison en "
           "français")


amounts = st.decimals(min_value=Decimal("-999999999999.99"), max_value=Decimal("999999999999.99"), places=2,
                      allow_nan=False, allow_infinity=False)
SPACES = [" ", "\u00a0", "\u202f"]


def dotted(d: Decimal) -> str:
    """12.345,67 (dots for thousands)."""
    return fr_money(d, euro=False, space=".")


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(amount=amounts, space=st.sampled_from(SPACES), euro=st.booleans(),
       style=st.sampled_from(["french", "dotted", "plain", "euro_first"]))
@counted
def test_money_written_the_french_ways_reads_back(amount, space, euro, style):
    if style == "french":
        text = fr_money(amount, euro=euro, space=space)
    elif style == "dotted":
        text = dotted(amount) + (" €" if euro else "")
    elif style == "plain":
        text = f"{amount:.2f}"
    else:
        text = ("-" if amount < 0 else "") + "€ " + f"{abs(amount):.2f}"
    assert parse_money(text) == amount


@settings(max_examples=500)
@given(st.text(max_size=40))
@counted
def test_money_never_crashes_on_any_text(text):
    try:
        value = parse_money(text)
    except CellError as exc:
        assert str(exc)  # a French reason
    else:
        assert isinstance(value, Decimal) and value.as_tuple().exponent == -2


@settings(max_examples=300)
@given(st.floats(allow_nan=True, allow_infinity=True))
@counted
def test_money_from_spreadsheet_numbers(number):
    try:
        value = parse_money(number)
    except CellError:
        assert number != number or abs(number) == float("inf") or abs(number) >= 1e15
    else:
        assert abs(value - Decimal(str(number))) <= Decimal("0.005")


dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@settings(max_examples=400)
@given(day=dates, style=st.sampled_from(["iso", "dmy", "d/m/y", "dmy2", "dotted", "iso_time", "dmy_time", "serial",
                                         "date", "datetime"]))
@counted
def test_dates_written_the_french_ways_read_back(day, style):
    value = {
        "iso": day.isoformat(), "dmy": day.strftime("%d/%m/%Y"), "d/m/y": f"{day.day}/{day.month}/{day.year}",
        "dmy2": day.strftime("%d/%m/%y"), "dotted": day.strftime("%d.%m.%Y"),
        "iso_time": f"{day.isoformat()}T13:45:00", "dmy_time": day.strftime("%d/%m/%Y 08:30"),
        "serial": float((day - date(1899, 12, 30)).days), "date": day,
        "datetime": datetime(day.year, day.month, day.day, 23, 59),
    }[style]
    assert parse_date(value) == day


@settings(max_examples=500)
@given(st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.none(), st.booleans()))
@counted
def test_dates_never_crash(value):
    try:
        result = parse_date(value)
    except CellError as exc:
        assert str(exc)
    else:
        assert date(1990, 1, 1) <= result <= date(2100, 12, 31)


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


ALIASES = sorted({(kind, column, alias) for kind, spec in KINDS.items()
                  for column, (_, aliases) in spec["columns"].items() for alias in aliases})


@settings(max_examples=600)
@given(case=st.sampled_from(ALIASES), upper=st.booleans(), accents=st.booleans(),
       pad=st.sampled_from(["", " ", "  ", "\u00a0"]), punct=st.sampled_from(["", ".", " :", " -"]),
       degree=st.sampled_from(["°", "o", "º"]))
@counted
def test_header_aliases_survive_case_accents_spaces_and_punctuation(case, upper, accents, pad, punct, degree):
    kind, column, alias = case
    written = alias.replace("°", degree)
    written = written.upper() if upper else written.lower()
    if accents:
        written = _strip_accents(written)
    written = pad + written + punct + pad
    assert header_key(written) == header_key(alias.replace("°", "o"))
    required = KINDS[kind]["required"]
    header = [LABELS[c] if c != column else written for c in required] + ([written] if column not in required else [])
    match = match_header([header], "export.csv", kind if kind != "commandes" else None)
    assert match is not None and column in match.mapping.values()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
@counted
def test_the_csv_reader_turns_any_bytes_into_rows_or_a_french_refusal(data):
    try:
        sheet = read_csv(data, Limits.defaults())
        for _number, cells in sheet.rows:
            assert isinstance(cells, list)
    except FileRejected as exc:
        assert exc.message


def test_parse_int_and_responses():
    assert [parse_int(v) for v in ["1", "2e", "3ème", "Lot 2", 4.0]] == [1, 2, 3, 2, 4]
    assert parse_response(" Désistement ") == "desistement" and parse_response("PAS DE RÉPONSE") == "sans_reponse"

"""The search box's matching and ranking, on the database's own text index (SQLite FTS5 trigram,
PostgreSQL pg_trgm): every kind of query a returning caller gives finds their case."""

import pytest
from sqlalchemy import select, text

from ticketing.cases import services
from ticketing.cases.models import Message, Ticket
from ticketing.cases.search import documents, finder
from ticketing.cases.search.finder import search_cases, search_customers
from ticketing.cases.search.query import parse
from ticketing.extensions import db


def take(actor, *, name, phone=None, email=None, subject="Late delivery", description="It came late.", product=None):
    customer = services.find_or_create_customer(name, email, phone)
    ticket = services.take_complaint(
        actor,
        customer=customer,
        subject=subject,
        description=description,
        channel="phone",
        product=product,
    )
    db.session.commit()
    return ticket


def found(typed, *, include_notes=True, **kwargs):
    return [ticket.reference for ticket in search_cases(parse(typed), include_notes=include_notes, **kwargs).items]


@pytest.fixture
def cases(agent):
    brown = take(
        agent, name="David Brown", phone="+44 7700 900456", email="d.brown@example.com", subject="Broken kettle"
    )
    wang = take(
        agent,
        name="王芳",
        phone="+86 138 0013 8000",
        subject="退款",
        description="我申请退款三次都没有回音，客服电话一直占线。",
        product="智能电饭煲 X2",
    )
    other = take(agent, name="Li Lei", phone="021-5555 0101", subject="Wrong colour", description="Ordered blue.")
    return {"brown": brown, "wang": wang, "other": other}


@pytest.mark.parametrize(
    ("typed", "who"),
    [
        ("David Brown", "brown"),
        ("brow", "brown"),  # part of a name
        ("BROWN", "brown"),
        ("+44 7700 900456", "brown"),  # as stored
        ("07700 900456", "brown"),  # as dialled at home, another format
        ("7700-900-456", "brown"),
        ("d.brown@example.com", "brown"),
        ("D.Brown@Example.COM", "brown"),
        ("13800138000", "wang"),  # stored as +86 138 0013 8000
        ("+86 138-0013-8000", "wang"),
        ("0086 138 0013 8000", "wang"),
        ("王芳", "wang"),  # a two-character name
        ("退款三次", "wang"),  # a Chinese substring of the description, no word boundaries
        ("占线", "wang"),  # two characters in the middle of a sentence
        ("电饭煲", "wang"),  # the product
        ("x2", "wang"),
        ("kettle", "brown"),
        ("Ｋｅｔｔｌｅ", "brown"),  # typed full-width
        ("li", "other"),  # a two-letter name
        ("blue", "other"),
    ],
)
def test_each_kind_of_query_finds_the_case(cases, typed, who):
    assert found(typed)[0] == cases[who].reference


def test_reference_fragments_find_the_case(cases):
    brown = cases["brown"].reference  # C-2026-000001 or similar
    year, number = brown.split("-")[1], int(brown.split("-")[2])
    assert found(brown) == [brown]
    assert found(brown.lower())[0] == brown
    assert found(f"{year}-{number}")[0] == brown  # "2026-1" names C-2026-000001
    assert brown in found(brown[-6:])  # "000001"


def test_words_must_all_appear(cases):
    assert found("David kettle") == [cases["brown"].reference]
    assert found("David colour") == []


def test_what_is_not_there_finds_nothing(cases):
    assert found("nobody-here") == []
    assert found("x") == []  # one character is too little to search for
    assert parse("x").empty


def test_messages_are_searchable_and_notes_only_for_staff(cases, agent):
    ticket = cases["other"]
    services.send_message(ticket, agent, body="We have booked a courier for Thursday.")
    services.add_note(ticket, agent, body="Supplier 蓝鲸物流 keeps mislabelling parcels.")
    db.session.commit()
    assert found("courier") == [ticket.reference]
    assert found("蓝鲸物流") == [ticket.reference]
    assert found("mislabelling") == [ticket.reference]
    assert found("蓝鲸物流", include_notes=False) == []
    assert found("mislabelling", include_notes=False) == []
    assert found("courier", include_notes=False) == [ticket.reference]


def test_an_edit_to_the_customer_is_found_at_once(cases):
    customer = cases["brown"].customer
    customer.name = "Davina Browning-Smythe"
    db.session.commit()
    assert found("Smythe") == [cases["brown"].reference]
    assert found("David Brown") == []


def test_a_rolled_back_change_leaves_the_index_as_it_was(cases, agent):
    services.add_note(cases["other"], agent, body="Temporary wording zebra")
    db.session.flush()
    assert found("zebra") == [cases["other"].reference]  # visible inside the transaction
    db.session.rollback()
    assert found("zebra") == []


@pytest.fixture(params=["one pass", "phase by phase"])
def ranking(request, monkeypatch):
    """Both ways of ranking: all matches at once (few of them) and off the index phase by phase."""
    if request.param == "phase by phase":
        monkeypatch.setattr(finder, "FEW", 1)
    return request.param


def test_exact_phone_and_reference_come_first_then_open_newest(agent, ranking):
    older = take(agent, name="Ann Old", phone="0755-8888 1234", subject="Parcel 0755 lost")
    caller = take(agent, name="Ben Caller", phone="0755-1234 5678", subject="Parcel lost again")
    newer_closed = take(agent, name="Cat New", subject="Parcel lost, call back on 075512345678")
    newest = take(agent, name="Dan Newest", subject="Parcel lost, reference 0755")
    newer_closed.status = "closed"
    db.session.commit()
    # The caller's exact number pins their case first; the other text matches follow.
    assert found("0755-1234-5678") == [caller.reference, newer_closed.reference]
    # Words: open cases, newest first, then the closed one.
    assert found("parcel lost") == [newest.reference, caller.reference, older.reference, newer_closed.reference]


@pytest.mark.parametrize("limit", [1, 3, 6, 7, 10])
def test_paging_never_repeats_or_skips(agent, ranking, limit):
    made = [take(agent, name=f"Caller {i}", subject="Noisy fridge").reference for i in range(7)]
    closed = db.session.get(Ticket, 3)
    closed.status = "closed"
    db.session.commit()
    seen, cursor = [], None
    while True:
        page = search_cases(parse("fridge"), include_notes=True, limit=limit, cursor=cursor)
        seen += [ticket.reference for ticket in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == [r for r in reversed(made) if r != closed.reference] + [closed.reference]


def test_filters_apply(cases):
    assert found("late") == [cases["brown"].reference]
    assert found("late", conditions=[Ticket.product.is_not(None)]) == []
    assert found("回音", conditions=[Ticket.product.is_not(None)]) == [cases["wang"].reference]


def test_search_syntax_is_text(cases):
    for typed in ['"', 'kettle" OR "', "NEAR(a b)", "a* b*", "%_%", "{public_text}: x", "\\"]:
        search_cases(parse(typed), include_notes=True)  # no error: everything typed is a literal
    assert found('"kettle"') == []  # quotes are part of what is looked for


def test_customers_by_name_phone_and_email(cases):
    def customers(typed):
        return [customer.name for customer in search_customers(parse(typed)).items]

    assert customers("brown") == ["David Brown"]
    assert customers("+86 13800138000") == ["王芳"]
    assert customers("王芳") == ["王芳"]
    assert customers("d.brown@example.com") == ["David Brown"]
    assert customers("kettle") == []  # a customer is found by who they are, not by their cases


def test_rebuild_writes_every_document_again(cases, agent):
    services.add_note(cases["other"], agent, body="Rebuilt note walrus")
    db.session.commit()
    connection = db.session.connection()
    connection.execute(documents.CaseDocument.__table__.delete())
    assert found("walrus") == []
    assert documents.rebuild(db.session.connection()) == (3, 3)
    db.session.commit()
    assert found("walrus") == [cases["other"].reference]
    assert found("退款三次") == [cases["wang"].reference]


def test_the_index_agrees_with_the_documents(cases):
    """SQLite's external-content index must hold exactly the document rows (the triggers kept it)."""
    if db.session.get_bind().dialect.name != "sqlite":
        pytest.skip("FTS5 is SQLite's")
    check = "INSERT INTO case_search_fts(case_search_fts, rank) VALUES ('integrity-check', 1)"
    db.session.execute(text(check))


def test_the_rebuild_command(cases, runner):
    db.session.execute(documents.CustomerDocument.__table__.delete())
    db.session.commit()
    assert [c.name for c in search_customers(parse("brown")).items] == []
    result = runner.invoke(args=["search", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "Search index rebuilt: 3 cases, 3 customers." in result.output
    db.session.expire_all()
    assert [c.name for c in search_customers(parse("brown")).items] == ["David Brown"]


def test_a_long_number_is_matched_whole_not_by_its_tail(agent):
    """The index is asked for a long number's last digits; the document must hold all of them."""
    mine = take(agent, name="Order Owner", subject="Order 2026113000451 never came")
    take(agent, name="Other Order", subject="Order 9999113000451 never came")  # same last seven digits
    assert found("2026113000451") == [mine.reference]
    assert found("13000451") and len(found("3000451")) == 2


def test_control_characters_and_lone_surrogates_match_nothing_and_break_nothing(cases):
    for typed in ("a\x00b", "kettle\x00", "\ud800kettle", "退款\x1b"):
        search_cases(parse(typed), include_notes=True)
        search_customers(parse(typed))
    assert found("ket\x00tle") == []


def test_a_phone_fragment_that_looks_like_year_and_number_finds_the_phone(agent):
    caller = take(agent, name="刘洋", phone="135-8899-0011", subject="空调噪音")
    for _ in range(11):  # C-2026-000011 exists too
        take(agent, name="Someone", subject="Filler")
    assert found("8899-0011") == [caller.reference]  # not a year: only the phone
    landline = take(agent, name="Shenzhen Shop", phone="0755-2026-8899", subject="Till broken")
    assert found("2026-8899") == [landline.reference]  # a year and a number, or a phone: both looked for
    assert caller.reference in found(f"2026-{int(caller.reference[-6:])}")


def test_documents_written_as_rows_are_inserted_equal_those_read_back_from_the_rows(cases, agent):
    """A new customer's and a new case's documents are written from the objects the flush inserted
    (no read back); they must say exactly what the rows say, and a later message is added to them."""
    template = cases["brown"]
    copied = {
        column.key: getattr(template, column.key)
        for column in Ticket.__table__.columns
        if not column.primary_key and column.key not in ("reference", "customer_id", "description")
    }
    customer = services.find_or_create_customer("Zhou Xun", "zhou.xun@example.com", "+86 139 0000 1111")
    with db.session.no_autoflush:  # one flush: the customer and the case
        ticket = Ticket(**copied, reference="C-2026-424242", customer=customer, description="第一封邮件")
        db.session.add(ticket)
    db.session.commit()
    services.send_message(ticket, agent, body="Second mail narwhal")
    db.session.commit()
    assert found("narwhal") == found("第一封") == found("zhou.xun") == [ticket.reference]

    connection = db.session.connection()
    ids = [case.id for case in (*cases.values(), ticket)]
    written = {
        row.ticket_id: dict(row._mapping) for row in connection.execute(select(documents.CaseDocument.__table__))
    }
    assert {doc["ticket_id"]: doc for doc in documents._case_documents(connection, ids)} == written
    customers = [case.customer_id for case in (*cases.values(), ticket)]
    written = {
        row.customer_id: dict(row._mapping) for row in connection.execute(select(documents.CustomerDocument.__table__))
    }
    assert {doc["customer_id"]: doc for doc in documents._customer_documents(connection, customers)} == written
    # A message inserted in the same flush as its new case is part of the document written from the objects.
    message = db.session.scalars(select(Message).where(Message.ticket_id == ticket.id)).one()
    made = {(Ticket, ticket.id): ticket, (Message, message.id): message}
    assert documents._case_documents(connection, [ticket.id], made) == documents._case_documents(
        connection, [ticket.id]
    )

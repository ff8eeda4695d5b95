"""What counts as a contact detail, and when one is published."""

import pytest

from app.verified_answers.grounding import TrustedContacts, contact_details

PUBLISHED = TrustedContacts(
    ["Диспетчерская: 8-800-555-01-23.", "Резюме — hr@vasdom.example.", "Сайт vasdom.example."]
)


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("Звоните +7 (495) 123-45-67", "number:4951234567"),
        ("карта 4276 1600 1234 5678", "number:4276160012345678"),
        ("счёт 40702810900000012345", "number:40702810900000012345"),
        ("пишите pay@vasdom-pay.ru", "email:pay@vasdom-pay.ru"),
        ("оплата на https://vasdom-oplata.ru/pay", "url:vasdom-oplata.ru/pay"),
        ("зайдите на www.example.com", "url:example.com"),
    ],
)
def test_phones_cards_accounts_emails_and_links_are_contact_details(text, detail):
    assert detail in contact_details(text)
    assert PUBLISHED.ungrounded(text) == {detail}


@pytest.mark.parametrize(
    "text",
    [
        "Влажная уборка 2 раза в неделю, по вторникам и пятницам, с 9:00 до 17:00.",
        "Обслуживание стоит 4800 рублей в месяц; ответственность застрахована на 500 000 руб.",
        "Уборка назначена на 01.12.2026 и 2026-12-15.",
        "Скидка 12% для управляющих компаний от 10 домов.",
    ],
)
def test_schedules_prices_and_dates_are_not_contact_details(text):
    assert contact_details(text) == frozenset()


def test_published_details_are_grounded_however_they_are_written():
    assert PUBLISHED.ungrounded("Телефон +7 800 555 01 23, почта HR@vasdom.example") == set()
    assert PUBLISHED.ungrounded("Личный кабинет: https://vasdom.example/lk") == set()
    assert PUBLISHED.ungrounded("Кабинет: vasdom.example.evil.ru/lk") == {
        "url:vasdom.example.evil.ru/lk"
    }

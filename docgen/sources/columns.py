"""The typing rules every reader shares live in :mod:`docgen.data.columns` (the data layer); this module keeps
the names readers and older code import from here."""

from docgen.data.columns import (  # noqa: F401 - re-exported
    COMMA,
    CURRENCY_SYMBOLS,
    DATE_WORDS,
    ID_WORDS,
    POINT,
    excel_serial_to_date,
    header_words,
    is_date_name,
    is_id_name,
    parse_number,
    to_text,
    type_column,
)

"""The kiosk's own words on screen (not content), per language. No Kivy, so tests can
check the fonts draw every one of them.

Vietnamese, Lao and English are written out; a language without its own words here
(the highland minority languages) uses the first language of its fallback chain
that has them (``signage_core.languages``: Tà Ôi, Pa Kô and Cơ Tu → Vietnamese).
"""

from __future__ import annotations

from signage_core import languages
from signage_core.errors import LanguageError

WORDS: dict[str, dict[str, str]] = {
    "vi": {
        "welcome": "Xin chào! Quý khách cần biết điều gì?",
        "home": "Trang chủ",
        "back": "← Quay lại",
        "text_size": "Cỡ chữ",
        "contrast": "Tương phản cao",
        "fallback": "Trang này chưa có bằng tiếng Việt. Đang hiển thị: {shown}",
        "scan": "Quét mã bằng điện thoại để mở trang chính thức:",
        "no_pages": "Chưa có trang nào ở mục này.",
        "loading": "Đang tải nội dung…",
        "touch_to_start": "Chạm vào màn hình để bắt đầu",
    },
    "lo": {
        "welcome": "ສະບາຍດີ! ທ່ານຢາກຮູ້ຫຍັງ?",
        "home": "ໜ້າຫຼັກ",
        "back": "← ກັບຄືນ",
        "text_size": "ຂະໜາດຕົວອັກສອນ",
        "contrast": "ສີເຂັ້ມ ອ່ານງ່າຍ",
        "fallback": "ໜ້ານີ້ຍັງບໍ່ມີເປັນພາສາລາວ. ກຳລັງສະແດງເປັນ: {shown}",
        "scan": "ສະແກນລະຫັດດ້ວຍໂທລະສັບ ເພື່ອເປີດເວັບໄຊທາງການ:",
        "no_pages": "ຍັງບໍ່ມີໜ້າໃດໃນຫົວຂໍ້ນີ້.",
        "loading": "ກຳລັງໂຫຼດເນື້ອຫາ…",
        "touch_to_start": "ແຕະໜ້າຈໍ ເພື່ອເລີ່ມຕົ້ນ",
    },
    "en": {
        "welcome": "Hello! What would you like to know?",
        "home": "Home",
        "back": "← Back",
        "text_size": "Text size",
        "contrast": "High contrast",
        "fallback": "This page is not yet available in English. Shown in: {shown}",
        "scan": "Scan the code with your phone to open the official site:",
        "no_pages": "No pages here yet.",
        "loading": "Loading content…",
        "touch_to_start": "Touch the screen to start",
    },
}
# The attract loop's invitation, in the three languages at once (nobody has chosen yet).
TOUCH_TO_START = " · ".join(WORDS[c]["touch_to_start"] for c in ("vi", "lo", "en"))


def words(language: str) -> dict[str, str]:
    """The kiosk's words for ``language``, or for the first language of its chain that has them."""
    try:
        chain = languages.chain(language)
    except LanguageError:
        chain = (language,)
    for code in (*chain, "vi"):
        if code in WORDS:
            return WORDS[code]
    return WORDS["vi"]


def language_name(code: str) -> str:
    """A language by its own name (ພາສາລາວ), or its code when the registry lacks it."""
    try:
        return languages.get(code).name
    except LanguageError:
        return code.upper()


ALL = (*(text for table in WORDS.values() for text in table.values()), TOUCH_TO_START)

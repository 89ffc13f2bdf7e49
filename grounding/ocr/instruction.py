"""From an instruction to what to look for: the target's words, the kind of control, and where on the screen.

"click the 'Save' button" -> target "Save", role "button"; "open the File menu" -> target "File", role "menu";
"pick 'Zoom In' in the open menu" -> target "Zoom In", role "menu item", area "open menu". Quoted text is taken as
the target verbatim; otherwise command words, articles and role nouns are stripped from both ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .cjk import has_cjk

# Leading command phrases, longest first so "go to" wins over "go".
_VERBS = sorted(
    (verb.strip() for verb in """
    click on|click into|click in|click|double click|double-click|right click|right-click|left click|tap on|tap|press on|
    press|push|hit|open up|open|show me|show|display|reveal|expand|collapse|select|choose|pick|go to|go|navigate to|
    navigate|jump to|switch to|switch|change to|move to|visit|follow|head to|browse to|hover over|hover on|hover|
    point at|point to|mouse over|use|activate|enable|disable|toggle|turn on|turn off|switch on|switch off|tick|untick|
    check|uncheck|mark|focus on|focus|
    type in|type into|enter text in|fill in|fill|find|locate|where is|sort by|sort|launch|run|start|close|access|
    view|let me see|bring up|put the cursor in|put cursor in|place the cursor in
    """.split("|")),
    key=len,
    reverse=True,
)
_POLITE = ("please", "now", "then", "just", "kindly")
_ARTICLES = ("the", "a", "an", "that", "this")

# Role nouns as they are written in instructions -> the role they name. Longest first.
_ROLES = {
    "menu entry": "menu item",
    "menu item": "menu item",
    "menu option": "menu item",
    "submenu": "submenu",
    "sub-menu": "submenu",
    "menu": "menu",
    "tab": "tab",
    "page tab": "tab",
    "sidebar tab": "tab",
    "button": "button",
    "toggle button": "button",
    "radio button": "radio",
    "radio": "radio",
    "link": "link",
    "hyperlink": "link",
    "checkbox": "checkbox",
    "check box": "checkbox",
    "switch": "switch",
    "toggle switch": "switch",
    "column header": "column",
    "column": "column",
    "header": "column",
    "row": "row",
    "input": "input",
    "input field": "input",
    "text field": "input",
    "field": "input",
    "text box": "input",
    "textbox": "input",
    "box": "input",
    "search box": "input",
    "search field": "input",
    "entry": "item",
    "item": "item",
    "option": "item",
    "label": "label",
    "icon": "icon",
    "tab icon": "icon",
    "heading": "heading",
    "title": "heading",
    "dropdown": "dropdown",
    "drop-down": "dropdown",
    "combo box": "dropdown",
    "list item": "item",
    "cell": "item",
}
_ROLE_WORDS = sorted(_ROLES, key=len, reverse=True)
# Role nouns that also come before the name ("the link Groups"); others there are part of the name ("File menu").
_FRONT_ROLES = {"link", "hyperlink", "menu entry", "menu item", "menu option", "label", "button", "tab", "checkbox"}

# Trailing phrases that say where the target is; each maps to an area name the ranker understands.
_AT = r"(?:in|on|at) the"
_CORNER = r"(?: corner| panel| side| part)?"
_OF_SCREEN = r"(?: of the (?:screen|window|page))?"
_AREAS = [
    (r"(?:in|on|from) the (?:top )?menu ?bar", "menu bar"),
    (r"in the (?:open|opened|dropdown|drop-down|context|popup|pop-up) menu", "open menu"),
    (r"(?:from|in) the (?:menu|list)", "open menu"),
    (r"(?:in|on) the (?:top )?tool ?bar", "top"),
    (r"(?:in|on) the status ?bar", "bottom"),
    (r"(?:in|on) the (?:left )?side ?bar", "left"),
    (rf"{_AT} (?:top|upper) left{_CORNER}{_OF_SCREEN}", "top left"),
    (rf"{_AT} (?:top|upper) right{_CORNER}{_OF_SCREEN}", "top right"),
    (rf"{_AT} (?:bottom|lower) left{_CORNER}{_OF_SCREEN}", "bottom left"),
    (rf"{_AT} (?:bottom|lower) right{_CORNER}{_OF_SCREEN}", "bottom right"),
    (rf"{_AT} (?:left|left-hand)(?: side)?(?: panel| pane| sidebar| column| side| part)?{_OF_SCREEN}", "left"),
    (rf"{_AT} (?:right|right-hand)(?: side)?(?: panel| pane| sidebar| column| side| part)?{_OF_SCREEN}", "right"),
    (rf"{_AT} (?:top|upper)(?: panel| pane| bar| side| part)?{_OF_SCREEN}", "top"),
    (rf"{_AT} (?:bottom|lower)(?: panel| pane| bar| side| part)?{_OF_SCREEN}", "bottom"),
    (r"(?:on|at) the (?:top|upper) right", "top right"),
    (r"on or off", ""),
    (r"(?:in|on) the (?:dialog|window|page|screen|form|toolbar|panel|sidebar|list|table)", ""),
]

_QUOTES = [("'", "'"), ('"', '"'), ("\u2018", "\u2019"), ("`", "`")]
# Quotes that are never apostrophes need no word boundary: "打开“状态”标签页" quotes inside unspaced CJK text.
_PAIRED_QUOTES = [("\u201c", "\u201d"), ("\u00ab", "\u00bb"), ("\u300c", "\u300d"), ("\u300e", "\u300f"),
                  ("\u300a", "\u300b"), ("\u3008", "\u3009"), ("\uff02", "\uff02")]

# Chinese instructions: command words in front, role nouns behind, no spaces ("点击保存按钮", "打开文件菜单").
_CJK_VERBS = sorted("""
点击|单击|双击|右键单击|右键点击|左键单击|左键点击|点一下|点|按下|按|打开|选择|选中|选取|勾选|取消勾选|切换到|
切换至|切换|转到|跳转到|前往|进入|显示|展开|折叠|启用|禁用|使用|查看|访问|聚焦到|聚焦|激活|悬停在|鼠标悬停在|移到|找到|定位到|
关闭|运行|执行|去|到
""".replace("\n", "").split("|"), key=len, reverse=True)
_CJK_ROLES = {
    "菜单项": "menu item", "子菜单": "submenu", "菜单": "menu", "按钮": "button", "标签页": "tab", "选项卡": "tab",
    "标签": "tab", "图标": "icon", "复选框": "checkbox", "勾选框": "checkbox", "单选按钮": "radio", "单选框": "radio",
    "链接": "link", "输入框": "input", "文本框": "input", "搜索框": "input", "字段": "input", "下拉框": "dropdown",
    "下拉菜单": "dropdown", "组合框": "dropdown", "列标题": "column", "列表项": "item", "选项": "item", "条目": "item",
    "开关": "switch", "列": "column", "项": "item",
}
_CJK_ROLE_WORDS = sorted(_CJK_ROLES, key=len, reverse=True)
_CJK_AREAS = [
    (r"(?:在|从)?(?:顶部)?菜单栏(?:中|上|里)?的?", "menu bar"),
    (r"(?:在|从)?(?:打开的|弹出的|右键)菜单(?:中|里)的?", "open menu"),
    (r"(?:在|从)?工具栏(?:中|上|里)?的?", "top"),
    (r"(?:在|从)?状态栏(?:中|上|里)?的?", "bottom"),
    (r"(?:在|从)?(?:左侧)?侧边栏(?:中|上|里)?的?", "left"),
    (r"(?:在|从)?(?:屏幕|窗口)?右上角的?", "top right"),
    (r"(?:在|从)?(?:屏幕|窗口)?左上角的?", "top left"),
]


# The words that frame an instruction rather than say what its target is or does: articles, pronouns, prepositions,
# the verbs of clicking, opening and choosing, and the nouns of widgets.
FRAME_WORDS = frozenset("""the a an this that these those my its it of for with to in on at by from into and or as is
are click press tap open select choose pick show go use menu menus tab tabs button buttons icon icons field box item
entry option link column sidebar panel pane toolbar bar list dialog window page screen""".split())

@dataclass(frozen=True)
class Query:
    """What the matcher looks for."""

    target: str  # the words to find on screen, as the instruction wrote them
    role: str | None = None  # "menu", "tab", "button", "link", ... when the instruction names one
    area: str | None = None  # "menu bar", "open menu", "top right", ... when the instruction says where
    quoted: bool = False  # the target was quoted, so it is the exact label
    shown_inside: bool = False  # the words are the control's content ("the input showing Walden"), not a caption


# Task-style instructions wrap the click in its purpose ("Click Delete to remove this order", "To jump to a line,
# click Go to Line...", "Sort by publisher by clicking PUBLISHER", "Find Edit (the menu with undo and redo) and click
# it", "Click Tabs, the menu for switching documents"). The act is the clause that clicks; the purpose is left to
# the meaning search, which reads the whole instruction.
_ACT_VERB = (r"(?:click(?: on)?|double[- ]click(?: on)?|right[- ]click(?: on)?|press|tap(?: on)?|hit|select|choose|"
             r"pick|use|open)")
_PURPOSE = (r"(?:in order to|so as to|so that|so (?:i|you|we|they) can|which (?:will|lets|allows)|"
            r"that (?:will|lets|allows)|to)")
_ACT_FRAMES = (
    # "Find Edit and click it" (once any aside in parentheses is gone)
    re.compile(rf"^(?:find|locate|look for|spot)\s+(?P<act>.+?)\s+and\s+{_ACT_VERB}\s+(?:it|on it|that)$", re.I),
    # "To jump to a line, click Go to Line...", "In order to ..., press X"
    re.compile(rf"^(?:to|in order to)\s+[^,]+,\s*(?P<act>{_ACT_VERB}\s.+)$", re.I),
    # "I want to see the change log of this order: click HISTORY"
    re.compile(rf"^i(?:'d| would)?\s+(?:want|need|like|wish)\s+to\s+.+?[:;.]\s+(?P<act>{_ACT_VERB}\s.+)$", re.I),
    # "I want to open the File menu"
    re.compile(r"^i(?:'d| would)?\s+(?:want|need|like|wish)\s+to\s+(?P<act>.+)$", re.I),
    # "In the toolbar, click Bold": the place goes last, where places are read.
    re.compile(rf"^(?P<place>(?:in|on|at|from|within|inside|under)\s[^,]{{1,40}}),\s*(?P<act>{_ACT_VERB}\s.+)$", re.I),
    # "Sort by the company that published each book by clicking PUBLISHER"
    re.compile(r"^.+?\s+by\s+(?P<verb>clicking|pressing|tapping|selecting|choosing|picking|using|opening|hitting)"
               r"(?:\s+on)?\s+(?P<act>.+)$", re.I),
    # "Click Delete to remove this order", "Press PRICE so that you can sort the books": the purpose starts with a
    # lower-case word ("Go to Line", "Add to Cart" keep their capitals).
    re.compile(rf"^(?P<act>{_ACT_VERB}\s.+?)\s+{_PURPOSE}\s+(?-i:[a-z]).*$", re.I),
    # "Click Tabs, the menu for switching between open documents", "Click on Home - the start page"
    re.compile(rf"^(?P<act>{_ACT_VERB}\s.+?)(?:,|\s[-\u2013\u2014])\s+(?:the|a|an|which|that|it)\s.+$", re.I),
)
# "Click on Settings (gear icon)": an aside of two words or more that starts in lower case ("Python 3 (ipykernel)"
# keeps its one-word part).
_ASIDE = re.compile(r"\s*\((?-i:[a-z])[^()]*\s[^()]*\)")


def act_of(text: str) -> str:
    """The clause of a task-style instruction that says what to click, or the instruction itself. A cut is kept only
    when something other than a role noun or a pronoun is left to click ("click the icon to add another customer"
    names no label: its purpose is all it says)."""
    act = _ASIDE.sub("", text).strip()
    for frame in _ACT_FRAMES:
        found = frame.match(act)
        if found is None:
            continue
        clause = found["act"].strip(" ,.!?")
        if "verb" in frame.groupindex:
            clause = f"click {clause}"
        if "place" in frame.groupindex:
            clause = f"{clause} {found['place']}"
        target = _strip(clause)[0].lower()
        if target and target not in _ROLES and target not in ("it", "this", "that", "here", "there"):
            return act_of(clause) if clause != act else clause
    return act if act != text and _strip(act)[0] else text


def parse(instruction: str, whole: bool = False) -> Query:
    """What to look for. A task-style instruction is read for its act (`act_of`) unless `whole`: a label may read
    like a purpose ("click into the Start typing to filter… box"), which only the screen can tell."""
    text = " ".join(instruction.split())
    if has_cjk(text):
        return _parse_cjk(text)
    if not whole and _quoted(text) is None:
        text = act_of(text)
    area = None
    for pattern, name in _AREAS:
        found = re.search(rf"(?:^|\s|,){pattern}\s*[.!?]?$|\s{pattern}(?=\s)", text, flags=re.IGNORECASE)
        if found:
            text = (text[: found.start()] + " " + text[found.end():]).strip(" ,")
            area = area or name or None
    quoted = _quoted(text)
    if quoted is not None:
        target, before, after = quoted
        # 'Select file "README.md"' (an accessible name quoting what is drawn): the inner quote is the visible label.
        nested = _quoted(target)
        if nested is not None:
            target = nested[0]
        role = _role_in(before + " " + after)
        if area is None and role == "menu" and re.search(r"\bmenu ?bar\b", instruction, re.IGNORECASE):
            area = "menu bar"
        return Query(target, role, area, quoted=True, shown_inside=bool(_SHOWING.search(before)))
    target, role, shown = _strip(text)
    if not target:  # the instruction was only a role or a verb ("Search", "Save"): it names the control itself
        target, role, shown = text.strip(" .!?"), None, False
    return Query(target, role, area, shown_inside=shown)


def _parse_cjk(text: str) -> Query:
    """A Chinese (or mixed) instruction: quoted text is the label; else verbs, particles and role nouns go."""
    area = None
    for pattern, name in _CJK_AREAS:
        found = re.search(pattern, text)
        if found and found.group(0):
            text = (text[: found.start()] + text[found.end():]).strip()
            area = area or name
    quoted = _quoted(text)
    if quoted is not None:
        target, before, after = quoted
        return Query(target, _cjk_role_in(before + after), area, quoted=True)
    target = re.sub(r"^(?:请你?|帮我|麻烦)+", "", text.strip(" 。.!！?？,，"))
    # One verb only: "勾选使用正则表达式复选框" keeps the label's own "使用".
    verb = next((v for v in _CJK_VERBS if target.startswith(v) and len(target) > len(v)), None)
    if verb is not None:
        target = target[len(verb):].lstrip(" 的")
    target = target.removeprefix("一下").strip()
    role = None
    noun = next((n for n in _CJK_ROLE_WORDS if target.endswith(n) and len(target) > len(n)), None)
    if noun is not None:
        target, role = target[: -len(noun)].rstrip(" 的"), _CJK_ROLES[noun]
    if has_cjk(target):
        return Query(target.strip(), role, area)
    # Chinese wording around a Latin label ("点击 Save 按钮"): the Latin rules finish the job.
    latin = parse(target) if target else Query(text)
    return Query(latin.target, role or latin.role, area or latin.area, shown_inside=latin.shown_inside)


def _cjk_role_in(text: str) -> str | None:
    return next((_CJK_ROLES[n] for n in _CJK_ROLE_WORDS if n in text), None) or _role_in(text)


def _quoted(text: str) -> tuple[str, str, str] | None:
    """The longest quoted span (opening quote at a word start, closing one at a word end; anywhere for quotes that
    are never apostrophes) and what surrounds it."""
    best = None
    patterns = [
        rf"(?:(?<=^)|(?<=[\s(\[:]))({re.escape(open_q)})(.+?){re.escape(close_q)}(?=$|[\s,.;:!?)\]])"
        for open_q, close_q in _QUOTES
    ] + [rf"({re.escape(open_q)})(.+?){re.escape(close_q)}" for open_q, close_q in _PAIRED_QUOTES]
    for pattern in patterns:
        for found in re.finditer(pattern, text):
            inner = found.group(2).strip()
            if inner and (best is None or len(inner) > len(best[0])):
                best = (inner, text[: found.start()], text[found.end():])
    return best


def _drop_front(text: str, words, repeat: bool = False) -> str:
    while True:
        lower = text.lower()
        for word in words:
            if lower.startswith(word + " "):
                text = text[len(word):].strip()
                break
        else:
            return text
        if not repeat:
            return text


def _role_in(text: str) -> str | None:
    words = text.lower()
    for noun in _ROLE_WORDS:
        if re.search(rf"\b{re.escape(noun)}\b", words):
            return _ROLES[noun]
    return None


# "the input showing Walden", "the button labelled OK": what follows is the text the control displays.
_SHOWING = re.compile(
    r"\b(?:showing|displaying|containing|labell?ed|named|called|titled|saying|that says|with(?: the)? text)\s+",
    re.IGNORECASE,
)


def _strip(text: str) -> tuple[str, str | None, bool]:
    """Drop command words and articles from the front and role nouns from the back; report the role removed."""
    text = text.strip(" .!?")
    role = None
    text = _drop_front(text, _POLITE, repeat=True)
    text = _drop_front(text, _VERBS)  # one verb only: "tick the Use escape sequences checkbox" keeps "Use"
    text = _drop_front(text, _ARTICLES)
    # "the link X", "the menu entry X": a role noun in front of the name.
    lower = text.lower()
    for noun in _ROLE_WORDS:
        if lower.startswith(noun + " ") and noun in _FRONT_ROLES:
            text, role = _drop_front(text[len(noun):].strip(), _ARTICLES), _ROLES[noun]
            break
    # "sort by the Property column", "the Format Code input", "File menu": role nouns at the back.
    lower = text.lower()
    for noun in _ROLE_WORDS:
        if lower.endswith(" " + noun):
            text = text[: -len(noun)].strip()
            role = role or _ROLES[noun]
            break
    # "the input showing Walden", "the button labelled OK": the words after the participle are the label.
    shown = _SHOWING.search(text)
    if shown:
        role = role or _role_in(text[: shown.start()])
        text = text[shown.end():]
    label = text.strip(" .!?,")
    # "click the . button" (a calculator's decimal point): the punctuation is the label itself.
    return label or text.strip(), role, shown is not None

"""Platform role names -> the roles instructions use (the OCR instruction parser's vocabulary: button, tab, menu,
menu item, checkbox, radio, link, input, dropdown, label, icon, heading, column, row, item, switch).

One table per platform; a role missing from its table, or mapped to (), is a container (frame, panel, tool bar...):
still matched by name ("the Formatting toolbar"), but a control with the same name wins.
"""

from __future__ import annotations

# AT-SPI role names (Atspi.role_get_name) as GTK, Qt, LibreOffice and Chromium publish them.
ATSPI = {
    "push button": ("button",),
    "push button menu": ("button", "dropdown"),
    "toggle button": ("button", "switch", "checkbox"),
    "check box": ("checkbox", "switch"),
    "check menu item": ("menu item", "checkbox"),
    "radio button": ("radio",),
    "radio menu item": ("menu item", "radio"),
    "menu": ("menu", "submenu", "menu item"),
    "menu item": ("menu item",),
    "tearoff menu item": ("menu item",),
    "page tab": ("tab",),
    "link": ("link",),
    "entry": ("input",),
    "text": ("input",),
    "password text": ("input",),
    "spin button": ("input",),
    "editbar": ("input",),
    "combo box": ("dropdown",),
    "label": ("label",),
    "static": ("label",),
    "caption": ("label",),
    "icon": ("icon", "button"),
    "image": ("icon",),
    "heading": ("heading",),
    "column header": ("column",),
    "table column header": ("column",),
    "row header": ("row",),
    "table row header": ("row",),
    "table row": ("row",),
    "list item": ("item",),
    "table cell": ("item",),
    "tree item": ("item",),
    "slider": ("input",),
}

# UI Automation control types (ControlType ids as UIA reports them, by their programmatic names).
UIA = {
    "Button": ("button",),
    "SplitButton": ("button", "dropdown"),
    "CheckBox": ("checkbox", "switch"),
    "RadioButton": ("radio",),
    "MenuItem": ("menu item", "menu"),
    "Menu": ("menu",),
    "TabItem": ("tab",),
    "Hyperlink": ("link",),
    "Edit": ("input",),
    "Spinner": ("input",),
    "Slider": ("input",),
    "ComboBox": ("dropdown",),
    "Text": ("label",),
    "Image": ("icon",),
    "HeaderItem": ("column",),
    "ListItem": ("item",),
    "TreeItem": ("item",),
    "DataItem": ("item", "row"),
}
UIA_CONTROL_TYPES = {  # UIA_*ControlTypeId -> name (UIAutomationClient.h)
    50000: "Button", 50001: "Calendar", 50002: "CheckBox", 50003: "ComboBox", 50004: "Edit", 50005: "Hyperlink",
    50006: "Image", 50007: "ListItem", 50008: "List", 50009: "Menu", 50010: "MenuBar", 50011: "MenuItem",
    50012: "ProgressBar", 50013: "RadioButton", 50014: "ScrollBar", 50015: "Slider", 50016: "Spinner",
    50017: "StatusBar", 50018: "Tab", 50019: "TabItem", 50020: "Text", 50021: "ToolBar", 50022: "ToolTip",
    50023: "Tree", 50024: "TreeItem", 50025: "Custom", 50026: "Group", 50027: "Thumb", 50028: "DataGrid",
    50029: "DataItem", 50030: "Document", 50031: "SplitButton", 50032: "Window", 50033: "Pane", 50034: "Header",
    50035: "HeaderItem", 50036: "Table", 50037: "TitleBar", 50038: "Separator", 50039: "SemanticZoom",
    50040: "AppBar",
}

# macOS AX roles; a subrole refines some (a tab is an AXRadioButton with subrole AXTabButton).
AX = {
    "AXButton": ("button",),
    "AXMenuButton": ("button", "dropdown"),
    "AXPopUpButton": ("dropdown", "button"),
    "AXDisclosureTriangle": ("button",),
    "AXCheckBox": ("checkbox", "switch"),
    "AXRadioButton": ("radio",),
    "AXMenuBarItem": ("menu",),
    "AXMenu": ("menu",),
    "AXMenuItem": ("menu item",),
    "AXLink": ("link",),
    "AXTextField": ("input",),
    "AXTextArea": ("input",),
    "AXComboBox": ("dropdown",),
    "AXStaticText": ("label",),
    "AXImage": ("icon",),
    "AXHeading": ("heading",),
    "AXCell": ("item",),
    "AXRow": ("row",),
    "AXColumn": ("column",),
    "AXSlider": ("input",),
    "AXIncrementor": ("input",),
}
AX_SUBROLES = {
    "AXTabButton": ("tab",),
    "AXSwitch": ("switch", "checkbox"),
    "AXSearchField": ("input",),
    "AXSecureTextField": ("input",),
}

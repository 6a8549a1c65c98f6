"""The panels' table: rows drawn line by line, kept until they change; growing rows lay out nothing."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from console.widgets.row_table import RowTable
from console.widgets.text_pane import TextPane

from .conftest import count_painted


class OneTable(App):
    CSS = "RowTable { width: 40; height: 8; }"

    def __init__(self) -> None:
        super().__init__()
        self.highlighted: list[str | None] = []
        self.selected: list[str | None] = []

    def compose(self) -> ComposeResult:
        table = RowTable(id="t")
        table.add_columns("name", "age")
        yield table

    def on_row_table_row_highlighted(self, message: RowTable.RowHighlighted) -> None:
        self.highlighted.append(message.row_key)

    def on_row_table_row_selected(self, message: RowTable.RowSelected) -> None:
        self.selected.append(message.row_key)


def _rows(n: int, age: int = 1) -> list[tuple[str, list[Text]]]:
    return [(f"k{i}", [Text(f"row {i}"), Text(f"{age}s")]) for i in range(n)]


def _count_drawn(table: RowTable) -> list[str]:
    drawn: list[str] = []
    draw = table._draw

    def counting(cells, style):
        drawn.append(cells[0].plain)
        return draw(cells, style)

    table._draw = counting  # type: ignore[method-assign]
    return drawn


async def test_a_changed_cell_redraws_only_its_row() -> None:
    app = OneTable()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RowTable)
        table.set_rows(_rows(3))
        await pilot.pause()
        drawn = _count_drawn(table)
        rows = _rows(3)
        rows[1] = ("k1", [Text("row 1"), Text("2s")])
        table.set_rows(rows)
        await pilot.pause()
    assert drawn == ["row 1"]




async def test_a_changed_cell_repaints_only_its_rows_line() -> None:
    app = OneTable()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RowTable)
        table.set_rows(_rows(3))
        await pilot.pause()
        painted = count_painted(table)
        rows = _rows(3)
        rows[2] = ("k2", [Text("row 2"), Text("2s")])
        table.set_rows(rows)
        await pilot.pause()
    # The header is line 0: row 2 is line 3.
    assert painted == [3]


async def test_moving_the_cursor_repaints_the_two_rows_it_left_and_reached() -> None:
    app = OneTable()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RowTable)
        table.set_rows(_rows(4))
        await pilot.pause()
        painted = count_painted(table)
        table.move_cursor(row=2)
        await pilot.pause()
    assert sorted(painted) == [1, 3]


async def test_the_same_rows_again_draw_nothing() -> None:
    app = OneTable()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RowTable)
        table.set_rows(_rows(3))
        await pilot.pause()
        drawn = _count_drawn(table)
        table.set_rows(_rows(3))
        await pilot.pause()
    assert drawn == []


async def test_set_rows_keeps_the_cursor_on_the_selected_key_and_says_nothing() -> None:
    app = OneTable()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RowTable)
        table.set_rows(_rows(3))
        table.move_cursor(row=2)
        await pilot.pause()
        app.highlighted.clear()
        table.set_rows([("new", [Text("new"), Text("0s")]), *_rows(3)], selected="k2")
        await pilot.pause()
        assert (table.cursor_row, table.cursor_key) == (3, "k2")
    assert app.highlighted == []


async def test_keys_move_the_cursor_and_enter_selects() -> None:
    app = OneTable()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RowTable)
        table.set_rows(_rows(5))
        table.focus()
        await pilot.press("down", "down", "j", "k", "enter")
    assert app.highlighted == ["k1", "k2", "k3", "k2"]
    assert app.selected == ["k2"]


async def test_the_cursor_past_the_pane_scrolls_into_view() -> None:
    app = OneTable()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RowTable)
        table.set_rows(_rows(30))
        await pilot.pause()
        table.move_cursor(row=20)
        await pilot.pause()
        # 8 lines: the header and 7 rows, the cursor's the last of them.
        assert table.scroll_offset.y == 14
        assert table.render_line(7).text.startswith(" row 20")


async def test_rows_added_to_a_table_of_fixed_size_lay_out_nothing_once_it_scrolls() -> None:
    app = OneTable()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RowTable)
        table.set_rows(_rows(20))
        await pilot.pause()
        assert table.show_vertical_scrollbar
        layouts: list[int] = []
        refresh_layout = app.screen._refresh_layout
        app.screen._refresh_layout = lambda *a, **k: (layouts.append(1), refresh_layout(*a, **k))[1]
        table.set_rows(_rows(21))
        await pilot.pause()
        assert table.virtual_size.height == 22
    assert layouts == []


async def test_a_scrollbar_appears_when_the_rows_outgrow_the_pane() -> None:
    app = OneTable()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RowTable)
        table.set_rows(_rows(3))
        await pilot.pause()
        assert not table.show_vertical_scrollbar
        table.set_rows(_rows(20))
        await pilot.pause()
        assert table.show_vertical_scrollbar


class OnePane(App):
    CSS = "TextPane { height: 5; }"

    def compose(self) -> ComposeResult:
        yield TextPane(id="p")


async def test_a_text_pane_shows_each_text_from_its_first_line() -> None:
    app = OnePane()
    async with app.run_test(size=(40, 8)) as pilot:
        pane = app.query_one(TextPane)
        pane.show("\n".join(f"line {i}" for i in range(20)))
        await pilot.pause()
        pane.scroll_to(y=10, animate=False)
        await pilot.pause()
        pane.show("first\nsecond")
        await pilot.pause()
        assert pane.scroll_offset.y == 0
        assert [pane.render_line(y).text.rstrip() for y in range(3)] == ["first", "second", ""]


async def test_a_text_pane_repaints_only_the_lines_a_new_text_changes() -> None:
    app = OnePane()
    async with app.run_test(size=(40, 8)) as pilot:
        pane = app.query_one(TextPane)
        pane.show("type: task.completed\nrun: r-1\ntask: a")
        await pilot.pause()
        painted = count_painted(pane)
        pane.show("type: task.completed\nrun: r-1\ntask: b\nattempt: 2")
        await pilot.pause()
        assert sorted(set(painted)) == [2, 3]
        assert [pane.render_line(y).text.rstrip() for y in range(4)][2:] == ["task: b", "attempt: 2"]


async def test_a_text_pane_draws_a_lines_own_style_under_its_spans() -> None:
    from rich.style import Style

    app = OnePane()
    async with app.run_test(size=(40, 8)) as pilot:
        pane = app.query_one(TextPane)
        line = Text("heading ", style="bold")
        line.append("red", style="red")
        pane.show_lines([line])
        await pilot.pause()
        segments = list(pane.render_line(0))
        assert segments[0].text == "heading " and segments[0].style.bold
        assert segments[1].text == "red" and segments[1].style.bold and segments[1].style.color == Style.parse("red").color

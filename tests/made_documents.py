"""Real PDF, Word, HTML and Markdown files made offline, knowing where every string was drawn.

PDFs are drawn with reportlab's built-in ``STSong-Light`` CJK font: every
Chinese character is one em wide, so a line of N characters at size S spans
exactly N·S points and the tests can check boxes against what was drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

FONT = "STSong-Light"
PAGE = (595.0, 842.0)
SIZE = 10.5
LEADING = 16.0

LEFT = [
    "平湖市今年在城东新建了三座口袋公园，总面积达到一万两千平方米，市民可以免费入园散步锻炼，周边居民十分欢迎。",
    "公园里种植了香樟、桂花和银杏等四十多种树木，还设置了儿童游乐区和老年健身步道，夜间照明一直开放到十点。",
]
RIGHT = [
    "乍浦镇渔港码头改造工程上月完工，新建泊位可同时停靠六十艘渔船，渔民卸货时间比过去缩短了一半以上。",
    "码头旁边的海鲜市场同步开业，每天早上五点开始交易，带鱼、梭子蟹和鲳鱼是最受欢迎的品种。",
]
CROSSING = (
    "嘉兴港区的集装箱吞吐量去年增长了百分之十八，港区管委会表示这主要得益于新开通的三条近洋航线和海铁联运班列，"
    "今年还将新建两个万吨级泊位并扩建堆场，预计全年吞吐量可以突破三百万标准箱，带动沿线物流企业新增就业岗位两千多个。"
    "管委会同时提醒，港区北侧的临港大道将在六月封闭施工两个月，过往货车需要提前绕行乍王公路，"
    "具体的绕行路线和施工时间安排会在港区官方网站和微信公众号上公布，请有关企业和司机朋友留意。"
)
CROSSING_SPLIT = 38 + 40 * 3  # page 1 holds an indented line and three full ones
RUNNING_HEADER = "嘉兴港区通讯 2024年第5期"


@dataclass
class Drawn:
    """Where each string went: (page, text, x0, baseline from the page's top, size)."""

    lines: list[tuple[int, str, float, float, float]] = field(default_factory=list)

    def of(self, text: str) -> list[tuple[int, str, float, float, float]]:
        return [d for d in self.lines if d[1] in text or text in d[1]]


class Pdf:
    def __init__(self, path: Path, **options) -> None:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont
        from reportlab.pdfgen import canvas

        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        self.canvas = canvas.Canvas(str(path), pagesize=PAGE, **options)
        self.page = 1
        self.drawn = Drawn()
        self.turned = False

    def turn(self) -> None:
        """This page is stored landscape with /Rotate 90 and shown portrait; ``text`` draws turned, so it reads upright.

        The stored page is PAGE[1] wide: a point (x, top) of the shown page is (top, x) there, text running up it.
        """
        self.canvas.setPageRotation(90)
        self.turned = True

    def text(self, x: float, top: float, text: str, size: float = SIZE) -> None:
        """``text`` on the page as it is shown, its baseline ``top`` points below the top edge, starting ``x`` from the left."""
        self.canvas.setFont(FONT, size)
        if self.turned:
            self.canvas.saveState()
            self.canvas.translate(top, x)
            self.canvas.rotate(90)
            self.canvas.drawString(0, 0, text)
            self.canvas.restoreState()
        else:
            self.canvas.drawString(x, PAGE[1] - top, text)
        self.drawn.lines.append((self.page, text, x, top, size))

    def paragraph(self, x: float, top: float, text: str, width_chars: int, indent: bool = True) -> float:
        """Wrapped at ``width_chars`` characters, first line indented two characters; returns the next top."""
        first = width_chars - 2 if indent else width_chars
        lines = [text[:first]] + [text[i : i + width_chars] for i in range(first, len(text), width_chars)]
        for n, line in enumerate(lines):
            self.text(x + (2 * SIZE if indent and n == 0 else 0), top, line)
            top += LEADING
        return top + LEADING * 0.6

    def fitted(self, x: float, top: float, text: str, width: float) -> float:
        """Wrapped as a typesetter does, as many characters as fit in ``width`` points (half-width digits and
        commas fit more); first line indented two characters; returns the next top."""
        from reportlab.pdfbase.pdfmetrics import stringWidth

        line, indent = "", 2 * SIZE
        for char in text:
            if stringWidth(line + char, FONT, SIZE) > width - indent:
                self.text(x + indent, top, line)
                line, indent, top = "", 0.0, top + LEADING
            line += char
        self.text(x + indent, top, line)
        return top + LEADING * 1.6

    def furniture(self) -> None:
        """The running header and the page number, as a newsletter's every page has them."""
        self.text(72, 40, RUNNING_HEADER, size=9)
        self.text(290, 815, str(self.page), size=9)

    def next_page(self) -> None:
        self.canvas.showPage()
        self.canvas.setPageRotation(0)
        self.turned = False
        self.page += 1

    def save(self) -> Drawn:
        self.canvas.save()
        return self.drawn


def one_column(path: Path) -> Drawn:
    pdf = Pdf(path)
    pdf.text(72, 80, "平湖城东口袋公园建成开放", size=18)
    top = 120.0
    for text in LEFT:
        top = pdf.paragraph(72, top, text, 40)
    return pdf.save()


def two_columns(path: Path) -> Drawn:
    """A newspaper page: masthead over both columns, two columns of two paragraphs, a page-number footer."""
    pdf = Pdf(path)
    pdf.text(230, 50, "平湖日报", size=24)
    pdf.text(72, 120, "城东公园", size=16)
    pdf.text(312, 120, "渔港码头", size=16)
    top = 150.0
    for text in LEFT:
        top = pdf.paragraph(72, top, text, 20)
    top = 150.0
    for text in RIGHT:
        top = pdf.paragraph(312, top, text, 20)
    pdf.text(285, 810, "— 1 —", size=9)
    return pdf.save()


# Half-width digits and commas, as in the seeds: lines of a column end a few points apart.
HALF_WIDTH = [
    "2024年3月,平湖市在城东新建了3座口袋公园,总面积达到12000平方米,市民可以免费入园散步锻炼,周边居民十分欢迎,"
    "公园里种植了香樟、桂花和银杏等40多种树木,还设置了儿童游乐区和老年健身步道,夜间照明一直开放到22点。",
    "乍浦镇渔港码头改造工程上月完工,新建泊位可同时停靠60艘渔船,渔民卸货时间比过去缩短了一半以上,"
    "码头旁边的海鲜市场同步开业,每天早上5点开始交易,带鱼、梭子蟹和鲳鱼是最受欢迎的品种。",
]


CROP = (
    36.0,
    36.0,
    559.0,
    806.0,
)  # a printer's page: viewers show only this part (left, bottom, right, top in points)
OUTSIDE_CROP = "裁切线外的印刷标记"


def cropped(path: Path) -> Drawn:
    """One column on a page whose CropBox leaves a 36-point margin of the MediaBox out, with a mark drawn in it."""
    pdf = Pdf(path, cropBox=CROP)
    pdf.text(72, 20, OUTSIDE_CROP, size=9)
    pdf.text(72, 90, "平湖城东口袋公园建成开放", size=18)
    top = 120.0
    for text in LEFT:
        top = pdf.paragraph(72, top, text, 40)
    return pdf.save()


def two_columns_half_width(path: Path) -> Drawn:
    """Two columns of text with half-width digits and commas, wrapped to the column's width, a centred page number."""
    pdf = Pdf(path)
    for x, text in ((72, HALF_WIDTH[0]), (312, HALF_WIDTH[1])):
        pdf.fitted(x, 120, text, 20 * SIZE)
    pdf.text(295, 815, "3", size=9)
    return pdf.save()


def crossing_pages(path: Path) -> Drawn:
    """Three pages under a running header and page numbers: a paragraph runs from page 1 onto page 2; page 3 is blank."""
    pdf = Pdf(path)
    for page in (1, 2):
        pdf.furniture()
        if page == 1:
            pdf.text(72, 90, "港区吞吐量创新高", size=18)
            pdf.paragraph(72, 120, LEFT[0], 40)
            pdf.paragraph(72, 680, CROSSING[:CROSSING_SPLIT], 40)
        else:
            rest = CROSSING[CROSSING_SPLIT:]
            lines = [rest[i : i + 40] for i in range(0, len(rest), 40)]
            for n, line in enumerate(lines):
                pdf.text(72, 90 + n * LEADING, line)
            pdf.paragraph(72, 90 + len(lines) * LEADING + 12, RIGHT[0], 40)
        pdf.next_page()
    pdf.next_page()  # page 3 has no text at all, as a scanned page would not
    return pdf.save()


TABLE = [
    ("乡镇", "复工企业", "到岗员工"),
    ("当湖街道", "一百二十家", "八千六百人"),
    ("新埭镇", "四十五家", "两千一百人"),
    ("乍浦镇", "六十三家", "三千四百人"),
]
TABLE_BEFORE = "截至三月底，全市各镇街道规上企业复工情况如下表所示，到岗员工人数按企业上报数据统计。"
TABLE_AFTER = "市经信局表示，下一步将继续做好企业用工保障，帮助企业解决原材料运输难题。"


def ruled_table(path: Path) -> Drawn:
    """A paragraph, a ruled table of three columns and four rows (a rule above, between and below the rows), a paragraph."""
    pdf = Pdf(path)
    pdf.text(72, 80, "各镇街道复工情况", size=18)
    top = pdf.paragraph(72, 120, TABLE_BEFORE, 40)
    first = top
    for row in TABLE:
        for x, cell in zip((80, 220, 360), row):
            pdf.text(x, top, cell)
        top += 24
    for n in range(len(TABLE) + 1):
        y = PAGE[1] - (first - 16 + n * 24)
        pdf.canvas.line(72, y, 500, y)
    for x in (72, 210, 350, 500):
        pdf.canvas.line(x, PAGE[1] - (first - 16), x, PAGE[1] - (first - 16 + len(TABLE) * 24))
    pdf.paragraph(72, top + 20, TABLE_AFTER, 40)
    return pdf.save()


def answer_on_page_two(path: Path, **options) -> Drawn:
    """Two pages under a running header: the park on page 1; on page 2 one paragraph of two sentences about the port,
    the second starting inside a line (the question about the market quotes it, not the whole paragraph).
    ``options`` go to reportlab's Canvas (``cropBox=CROP``: a printer's page)."""
    pdf = Pdf(path, **options)
    pdf.furniture()
    pdf.text(72, 90, "平湖城东口袋公园建成开放", size=18)
    top = 120.0
    for text in LEFT:
        top = pdf.paragraph(72, top, text, 40)
    pdf.next_page()
    pdf.furniture()
    pdf.text(72, 90, "乍浦渔港码头改造完工", size=18)
    pdf.paragraph(72, 120, RIGHT[0] + RIGHT[1], 40)
    return pdf.save()


SIDEWAYS = "这一页的文字横着排，转过来才能读"


def turned_pages(path: Path) -> Drawn:
    """Page 1 upright; page 2 stored landscape with /Rotate 90 and its text drawn turned, so it is shown and read
    upright like page 1; page 3 turned by /Rotate 90 too but with its text drawn plainly, so it is shown sideways."""
    pdf = Pdf(path)
    pdf.text(72, 90, "平湖城东口袋公园建成开放", size=18)
    pdf.paragraph(72, 120, LEFT[0], 40)
    pdf.next_page()
    pdf.turn()
    pdf.text(72, 90, "乍浦渔港码头改造完工", size=18)
    pdf.paragraph(72, 120, RIGHT[0] + RIGHT[1], 40)
    pdf.next_page()
    pdf.canvas.setPageRotation(90)
    pdf.canvas.setFont(FONT, SIZE)
    pdf.canvas.drawString(72, 400, SIDEWAYS)  # stored page coordinates: it is shown running down the page
    return pdf.save()


def many_pages(path: Path, pages: int) -> None:
    """``pages`` two-column pages for the extraction benchmark."""
    pdf = Pdf(path)
    for _ in range(pages):
        pdf.furniture()
        top = 80.0
        while top < 700:
            for text in LEFT + RIGHT:
                top = pdf.paragraph(72, top, text, 20)
        top = 80.0
        while top < 700:
            for text in RIGHT + LEFT:
                top = pdf.paragraph(312, top, text, 20)
        pdf.next_page()
    pdf.save()


def encrypted(path: Path) -> None:
    pdf = Pdf(path, encrypt="secret")
    pdf.text(72, 100, LEFT[0])
    pdf.save()


def word(path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("乍浦渔港码头改造完工", level=1)
    document.add_paragraph(RIGHT[0])
    heading = document.add_paragraph("海鲜市场")
    heading.style = document.styles["Heading 2"]
    document.add_paragraph(RIGHT[1])
    table = document.add_table(rows=2, cols=2)
    for row, (a, b) in enumerate((("品种", "价格"), ("梭子蟹", "每斤八十元"))):
        table.cell(row, 0).text, table.cell(row, 1).text = a, b
    document.add_paragraph(LEFT[1])
    document.save(str(path))


HTML = """<!doctype html>
<html lang="zh">
<head><meta charset="utf-8"><title>平湖新闻网</title>
<style>body {{ font-family: serif; }}</style>
<script>var tracker = "统计代码不应被索引";</script></head>
<body>
<header><a href="/">首页</a> <a href="/about">关于我们</a></header>
<nav><ul><li>新闻中心</li><li>政务公开</li><li>联系我们</li></ul></nav>
<main>
<article>
<h1>平湖城东口袋公园建成开放</h1>
<p>{left0}</p>
<p>{left1_a}
{left1_b}</p>
</article>
</main>
<aside>热门推荐：本站其他文章列表</aside>
<footer>版权所有 平湖新闻网 浙ICP备00000000号</footer>
</body>
</html>
"""


def html(path: Path) -> str:
    text = HTML.format(left0=LEFT[0], left1_a=LEFT[1][:20], left1_b=LEFT[1][20:])
    path.write_text(text, encoding="utf-8")
    return text


MARKDOWN = """---
title: 渔港码头
tags: [乍浦, 渔业]
---

# 乍浦渔港码头改造完工

{right0}

```python
print("代码块里的文字不应被索引")
```

- {right1}

| 品种 | 价格 |
| --- | --- |
| 梭子蟹 | 每斤八十元 |
"""


def markdown(path: Path) -> str:
    text = MARKDOWN.format(right0=RIGHT[0], right1=RIGHT[1])
    path.write_text(text, encoding="utf-8")
    return text


def garbled(path: Path) -> None:
    """One page drawn in a font with no Unicode map (as a subset font without ToUnicode): pdfminer reads ``(cid:N)``."""
    content = b"BT /F1 12 Tf 72 700 Td <0001000200030004000500060007000800090010> Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /NoUnicode /Encoding /Identity-H /DescendantFonts [6 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /NoUnicode "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))

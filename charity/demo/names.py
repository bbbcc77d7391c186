"""The only person names demo data may use: invented, and checked against real people.

Demo data is shown to every visitor of `make run` and in screenshots, so a person's name in
it must never be a real public figure's (an earlier cut named a fund's committee chair after
a jailed former national leader). ``PEOPLE`` is the closed set the demo may use; the test
``tests/test_demo_names.py`` loads the whole demo and fails on any person name outside it,
and on any overlap with ``REAL_PUBLIC_FIGURES``. 王小明 and 李华 are the stock placeholder
names of Chinese textbooks and exam papers; the rest are invented for this project.
"""

from __future__ import annotations

#: Invented names, by the part they play in the demo.
PEOPLE = frozenset(
    {
        "王小明",  # demo donor (textbook placeholder)
        "李华",  # second demo donor (exam-paper placeholder)
        "陈蔚岚",  # 广东省乐善慈善基金会: contact and owner
        "黄启舟",  # 广州市越秀区慈善会: contact and owner, fund committee member
        "刘知遥",  # 北京市朝阳区社区公益促进会
        "周语棠",  # 上海市浦东新区阳光社会工作服务中心
        "杨书屿",  # 四川省山区助学基金会
        "吴清沅",  # 浙江省绿水环保促进会
        "陈其朗",  # person in charge of the demo campaigns
        "苏明澈",  # chair of the demo community fund's committee
        "林晚舟",  # fund committee member
        "梁安禾",  # fund committee member
        "何知微",  # fund committee supervisor
    }
)

#: Role titles built from a surname (陈会计, 黄编辑) and accounts named by their office.
TITLES = ("会计", "编辑")
OFFICES = frozenset({"平台管理员", "广东省民政厅监管员"})
#: Invented companies that give in the demo (a donor may be a company).
COMPANIES = frozenset(
    {
        "广州粤信科技有限公司",
        "佛山禾岚建材有限公司",  # a pledging company
        "广东晴川物流有限公司",  # a pledging company and a matching sponsor
        "广州康禾医疗器械有限公司",  # the supplier on the fund's evidence file
    }
)

#: Real people the demo must never name: national leaders (present and past, including those
#: convicted), well-known public figures, and people known from Chinese philanthropy.
REAL_PUBLIC_FIGURES = frozenset(
    {
        # leaders and officials
        "毛泽东", "周恩来", "刘少奇", "朱德", "邓小平", "陈云", "华国锋", "胡耀邦", "赵紫阳",
        "江泽民", "李鹏", "朱镕基", "胡锦涛", "温家宝", "吴邦国", "贾庆林", "习近平", "李克强",
        "李强", "赵乐际", "王沪宁", "蔡奇", "丁薛祥", "李希", "韩正", "汪洋", "栗战书",
        "王岐山", "张德江", "俞正声", "刘云山", "张高丽", "周永康", "薄熙来", "令计划",
        "徐才厚", "郭伯雄", "孙政才", "陈希", "王毅", "何立峰", "李尚福", "魏凤和", "秦刚",
        # astronauts, scientists, athletes, entertainers, entrepreneurs
        "杨利伟", "刘洋", "王亚平", "翟志刚", "景海鹏", "钟南山", "袁隆平", "屠呦呦", "莫言",
        "姚明", "刘翔", "李娜", "郎平", "朱婷", "孙杨", "谷爱凌", "苏炳添", "全红婵",
        "成龙", "李连杰", "周杰伦", "刘德华", "王菲", "杨幂", "范冰冰", "黄晓明", "赵本山",
        "马云", "马化腾", "刘强东", "雷军", "李彦宏", "任正非", "王健林", "许家印", "张一鸣",
        # Chinese philanthropy
        "韩红", "陈光标", "郭美美", "邓飞", "徐永光", "王振耀", "杨澜", "曹德旺",
    }
)  # fmt: skip


def is_allowed(name: str) -> bool:
    """A name the demo may show: one of ``PEOPLE``, an office, a company, or surname + title."""
    if name in PEOPLE or name in OFFICES or name in COMPANIES:
        return True
    surname, title = name[:1], name[1:]
    return title in TITLES and any(person.startswith(surname) for person in PEOPLE)

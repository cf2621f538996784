"""A small war-news glossary that lets untranslated ru/uk posts share terms with English
claims (заложников -> hostage, шістьох -> 6).

The multilingual embedding knows Russian but not Ukrainian, and names alone do not tell
a hostage taking from a festival in the same region, so the words that carry these
claims are bridged explicitly. Each line: English word = Russian forms | Ukrainian forms
(a word may take two lines); all forms go through the same stemmers as the text, so the
table stays in step with them.
"""

from __future__ import annotations

from functools import cache

_TABLE = """
1 = один одна одного | один одна одного
2 = два две двое двух двоих | два дві двоє двох двох
3 = три трое трех троих | три троє трьох
4 = четыре четверо четырех | чотири четверо чотирьох
5 = пять пятеро пяти | п'ять п'ятеро п'ятьох
6 = шесть шестеро шести шестерых | шість шестеро шести шістьох
7 = семь семеро семи | сім семеро семи
8 = восемь восьми | вісім восьми
9 = девять девяти | дев'ять дев'яти
10 = десять десяти | десять десяти
100 = сто | сто
hostage = заложник заложники заложников заложниками | заручник заручники заручників
saboteur = диверсант диверсанты диверсантов диверсионная диверсионной ДРГ
saboteur = диверсант диверсанти диверсантів диверсійна
sabotage = диверсия диверсии | диверсія диверсії
drone = беспилотник беспилотники беспилотника БПЛА дрон дроны дронов
drone = безпілотник безпілотники дрон дрони дронів
shahed = шахед шахеды шахедов | шахед шахеди шахедів
missile = ракета ракеты ракет | ракета ракети ракет
attack = атака атаки атаковали удар удара | атака атаки атакували удар удару
explosion = взрыв взрыва взрывы | вибух вибуху вибухи
fire = пожар пожара горит возгорание | пожежа пожежі палає горить
depot = нефтебаза нефтебазы склад | нафтобаза нафтобази склад
fuel = топливо топливный топливного | паливо пального
oil = нефть нефтяной | нафта нафтовий
bridge = мост моста мосту | міст мосту
killed = погибли погиб погибших убиты убит | загинули загинув загиблих вбиті
wounded = ранены ранен раненых | поранені поранений поранених
captured = захватили захват взяли взятие | захопили захоплення взяли
liquidated = ликвидировать уничтожат уничтожить | ліквідувати знищити
village = село села селе | село села селі
town = город города | місто міста
region = область области регион | область області регіон
border = граница границы границе | кордон кордону кордоні
exercises = учения учений | навчання
troops = войска войск военные военнослужащих | війська військ військові військових
soldiers = солдаты солдат бойцы военнослужащие | солдати бійці військовослужбовці
prisoners = пленные пленными пленных | полонені полоненими полонених
exchange = обмен обмена | обмін обміну
war = война войны | війна війни
nuclear = атомная атомной ядерный АЭС ЗАЭС | атомна атомної ядерний АЕС ЗАЕС
plant = станция станции АЭС ЗАЭС | станція станції АЕС ЗАЕС
power = электроснабжение электричество обесточена | живлення електропостачання знеструмлена
generators = генераторы генераторов | генератори генераторів
diesel = дизельные дизельных дизель | дизельні дизель
shot = сбиты сбили сбит | збиті збили збито
air = воздушные | повітряні
defence = ПВО | ППО
trip = поездка поездку визит | поїздка поїздку візит
cancelled = отменил отменен отменена | скасував скасовано
spokesman = пресс-секретарь | речник прес-секретар
president = президент президента | президент президента
governor = губернатор губернатора | губернатор губернатора
mobilisation = мобилизация мобилизации | мобілізація мобілізації
evacuation = эвакуация эвакуации | евакуація евакуації
shelling = обстрел обстрела обстрелы | обстріл обстрілу обстріли
"""


_ENGLISH_NUMBERS = "one two three four five six seven eight nine ten"


@cache
def _table() -> dict[str, str]:
    from monitors.matching.text import clean, stem, words  # text imports this module

    table = {word: str(n) for n, word in enumerate(_ENGLISH_NUMBERS.split(), 1)}
    for line in _TABLE.strip().splitlines():
        english, forms = line.split(" = ")
        target = stem(english)
        # Either stemmer may see a form: a Ukrainian word without і/ї/є looks Russian.
        for word in words(clean(forms.replace("|", " "))):
            for lang in ("ru", "uk"):
                table.setdefault(stem(word, lang), target)
    return table


def english_term(term: str) -> str | None:
    """The English index term a Russian/Ukrainian term stands for, if known."""
    return _table().get(term)

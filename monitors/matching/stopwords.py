"""Function words that carry no claim content, for en/ru/uk/be (lower case, ё folded).

Negations (not, no, не, ні) are deliberately absent: the stance detector reads raw text,
but they also matter to BM25 when a post quotes a denial.
"""

_EN = """
a an the and or but if then than so as of at by for from in into on onto to with without
about over under after before between through during up down out off again further once
here there when where why how all any both each few more most other some such only own same
too very can will just should now is are was were be been being have has had having do does
did doing i me my we our you your he him his she her it its they them their what which who
whom this that these those am would could may might must shall also via per says said say
rt amp its it's i'm we're you're they're he's she's that's there's let's im
"""

_RU = """
и в во на с со к ко о об от до по за из у же ли бы а но или да то это этот эта эти того
тот та те том как так что чтобы чем кто где когда там тут здесь уже еще ещё вот был была
было были быть будет будут есть его ее её их им ими ним ней нем них он она оно они мы вы
я ты мне меня нас вас себя свой своя свои своих при для про над под между через после
перед также тоже всё все всех всем весь вся очень лишь только который которая которые
которых которого сейчас теперь потом может могут можно нужно также ведь либо же
"""

_UK = """
і й та в у на з із зі до від по за про для при над під між через після перед як що щоб
чи але або а же ж це цей ця ці цього того той та ті там тут де коли вже ще ось був була
було були бути буде будуть є його її їх їм ними нього неї них він вона воно вони ми ви я
ти мене нас вас себе свій своя свої своїх також теж все всі всіх весь вся дуже лише тільки
який яка які яких якого зараз тепер потім може можуть можна треба
"""

_BE = """
і ў у на з са да ад па за пра для пры над пад паміж праз пасля перад як што каб ці але
або а ж гэта гэты гэтая гэтыя там тут дзе калі ужо яшчэ быў была было былі быць будзе
ёсць яго яе іх ён яна яно яны мы вы я ты мяне нас вас сябе свой свая свае таксама усе ўсе
вельмі толькі які якая якія зараз цяпер потым можа могуць можна трэба
"""

STOP_WORDS: frozenset[str] = frozenset(
    w.replace("ё", "е") for block in (_EN, _RU, _UK, _BE) for w in block.split()
)

"""Word lists the claim check uses, each with where it comes from.

- :data:`CALENDAR`: English day and month names and their abbreviations (capitalized, never invented names).
- :data:`COMMON_STARTS`: words that commonly start an English sentence in business prose (function words,
  discourse markers, pronouns, determiners, common verbs and nouns of reports and letters). A capitalized
  word at the start of a sentence that is neither in this list nor in the document's own vocabulary, and
  is followed by another capitalized word, is read as a name; alone, a sentence-initial word is not judged.
- :data:`STOPWORDS`: function words left out when comparing a sentence with an instruction (echo).
- :data:`ACRONYMS`: business abbreviations that are not names (CEO, KPI, ...).

Made for docgen from the labelled set's sentences and ordinary English usage; extend them when a labelled
sentence shows a gap (tests/data/claims/).
"""

from __future__ import annotations

CALENDAR = frozenset("""
monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun
january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec christmas easter
""".split())

STOPWORDS = frozenset("""
a an the and or but if then than so of in on at to for from by with without into onto over under about as is
are was were be been being am do does did doing have has had having it its it's this that these those there
their they them we our us you your he she his her i me my not no nor can could will would shall should may
might must also just very more most less least much many some any each every all both either neither other
such own same too only which who whom whose what when where why how while after before between during up down
out off again further once here one two three first please
""".split())

ACRONYMS = frozenset("""
ceo cfo coo cto kpi kpis roi yoy qoq ytd mtd eps ebit ebitda usd eur gbp vat faq faqs ok id pdf csv url
""".split())

COMMON_STARTS = frozenset("""
a an the this that these those there here it its our we us you your they their he she his her i my one two
three four five several many most some all any each every both either neither no none only overall however
moreover furthermore additionally also meanwhile therefore thus hence consequently finally firstly secondly
thirdly lastly first second third next then still yet although though while whereas because since as if
when where whether unless until after before during despite given based compared regarding according
in on at by for from with without within among across over under about around between into through to of
and or but so not nevertheless nonetheless otherwise instead indeed notably importantly interestingly
unfortunately fortunately sadly happily clearly evidently generally typically usually similarly likewise
conversely alternatively specifically particularly especially ultimately essentially basically overall
total sales profit profits revenue revenues margin margins growth performance results result customers
customer comments comment reviews review feedback products product items item orders order units region
regions category categories segment segments team teams company business management managers staff
thank thanks sorry please kindly sincerely dear hello regards best we're we've we'll i'm i've i'll you're
you'll you've it's that's there's here's let let's looking going moving taking making keeping focusing
consider considering recommend recommendation recommendations concern concerns key main major minor top
bottom highest lowest largest smallest strongest weakest best worst leading lagging positive negative
neutral mixed mood sentiment summary commentary conclusion note notes action actions priority priorities
improve improving increase increasing reduce reducing review reviewing investigate investigating focus
address addressing continue continuing monitor monitoring ensure ensuring expand expanding maintain
according despite due following given including like unlike whatever whichever whoever what which who why
how yes well now today currently recently previously later soon
""".split())

__all__ = ["CALENDAR", "COMMON_STARTS", "STOPWORDS", "ACRONYMS"]

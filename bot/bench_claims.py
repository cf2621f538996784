"""Synthetic English claims for `claimwatch bench`.

The benchmark needs a claim set of realistic size and shape (short war-news statements
naming actors, places and numbers) without shipping anyone's live-blog text. Claims are
built from templates with a seeded generator, so the same N always gives the same set.
"""

from __future__ import annotations

import random

from monitors.models import Claim

_ACTORS = (
    "the Russian Volunteer Corps",
    "the Ukrainian General Staff",
    "the Russian Defence Ministry",
    "the Belgorod governor",
    "the Kremlin spokesman",
    "a Wagner commander",
    "the Kursk regional administration",
    "Ukraine's air force",
    "the Freedom of Russia Legion",
    "the Bryansk governor",
    "Russia's emergencies ministry",
    "the mayor of Kharkiv",
)
_PLACES = (
    "Avdiivka",
    "Bakhmut",
    "Belgorod",
    "Shebekino",
    "Kupiansk",
    "Robotyne",
    "Krynky",
    "Vovchansk",
    "Pokrovsk",
    "Sudzha",
    "Lyubichane",
    "Novorossiysk",
    "Sevastopol",
    "Kherson",
    "Zaporizhzhia",
    "Donetsk",
    "Horlivka",
    "Marinka",
    "Tokmak",
    "Chasiv Yar",
)
_REGIONS = ("Bryansk", "Kursk", "Belgorod", "Donetsk", "Luhansk", "Zaporizhzhia", "Kherson")
_WEAPONS = ("drones", "missiles", "glide bombs", "artillery shells", "rockets", "naval drones")
_TARGETS = (
    "an oil depot",
    "a power substation",
    "an ammunition dump",
    "a railway bridge",
    "a military airfield",
    "a fuel train",
    "a radar station",
    "a landing ship",
)
_TEMPLATES = (
    "{actor} said its forces had taken the village of {place} in the {region} region.",
    "{n} people were killed when {weapon} struck {place} overnight, {actor} said.",
    "{actor} reported that air defences shot down {n} {weapon} over the {region} region.",
    "A strike on {target} near {place} started a large fire, according to {actor}.",
    "{actor} claimed that {n} soldiers were captured near {place}.",
    "Residents of {place} were evacuated after shelling, {actor} said.",
    "{actor} denied reports that troops had withdrawn from {place}.",
    "Saboteurs crossed the border into the {region} region and took {n} hostages, {actor} said.",
    "{actor} said {target} in {place} was destroyed by {weapon}.",
    "Electricity was cut to {n} thousand homes in {place} after an attack on {target}.",
)
# A few written out in full, the kind of claim a live blog really carries.
_FIXED = (
    "The Kremlin spokesman promised that the saboteurs would be liquidated.",
    "Putin cancelled a planned trip to the North Caucasus because of the border incursion.",
    "Tass reported that the armed group had already left Russian territory.",
    "Ukrainian officials said the raid showed that Russia was falling apart.",
    "A nationalist commentator wrote on Telegram that the last red lines had been erased.",
    "State news agencies withdrew reports that six people had been taken hostage.",
)


def synthetic_claims(count: int, seed: int = 0) -> list[Claim]:
    """`count` claims with ids `bench-0001`...; the same (count, seed) gives the same set."""
    rng = random.Random(seed)
    texts = list(_FIXED[:count])
    while len(texts) < count:
        template = rng.choice(_TEMPLATES)
        texts.append(
            template.format(
                actor=rng.choice(_ACTORS),
                place=rng.choice(_PLACES),
                region=rng.choice(_REGIONS),
                weapon=rng.choice(_WEAPONS),
                target=rng.choice(_TARGETS),
                n=rng.randint(2, 120),
            )
        )
    return [
        Claim(id=f"bench-{i:04d}", text=text[0].upper() + text[1:], source="bench")
        for i, text in enumerate(texts, 1)
    ]

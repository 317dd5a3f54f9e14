"""A deterministic demo catalog: a department tree and as many products as asked for.

The same ``seed`` always yields the same names, SKUs, prices, stock and attributes (only
ids and timestamps differ), so screenshots, docs and benchmarks describe the same shop.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agora.catalog.domain import Category, Product, slugify
from agora.platform.clock import utcnow
from agora.platform.ids import new_id
from agora.platform.money import Money


@dataclass(frozen=True, slots=True)
class Aisle:
    """A subcategory and how its products look: nouns, adjectives, price range in cents."""

    name: str
    nouns: tuple[str, ...]
    adjectives: tuple[str, ...]
    price_range: tuple[int, int]
    attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class Department:
    name: str
    code: str
    aisles: tuple[Aisle, ...]


COLOURS = ("black", "white", "graphite", "navy", "forest green", "sand", "red", "sky blue")
SIZES = ("XS", "S", "M", "L", "XL")

DEPARTMENTS: tuple[Department, ...] = (
    Department(
        "Electronics",
        "ELC",
        (
            Aisle(
                "Headphones",
                ("Over-Ear Headphones", "Wireless Earbuds", "Studio Monitor Headphones"),
                ("Noise-Cancelling", "Wireless", "Lightweight", "Foldable", "Bass-Boost"),
                (2999, 34999),
                (("colour", COLOURS), ("connectivity", ("Bluetooth 5.3", "USB-C", "3.5 mm"))),
            ),
            Aisle(
                "Keyboards & Mice",
                ("Mechanical Keyboard", "Wireless Mouse", "Ergonomic Keyboard", "Trackball"),
                ("Compact", "Backlit", "Silent", "Low-Profile", "Ergonomic"),
                (1999, 22999),
                (("layout", ("US", "UK", "DE", "Nordic")), ("colour", COLOURS)),
            ),
            Aisle(
                "Monitors",
                ('27" Monitor', '24" Monitor', "Ultrawide Monitor", "Portable Monitor"),
                ("4K", "QHD", "144 Hz", "Colour-Accurate", "USB-C"),
                (12999, 89999),
                (("panel", ("IPS", "VA", "OLED")), ("refresh_rate_hz", ("60", "144", "165"))),
            ),
            Aisle(
                "Smart Home",
                ("Smart Plug", "Smart Bulb", "Video Doorbell", "Thermostat", "Motion Sensor"),
                ("Wi-Fi", "Matter-Ready", "Energy-Saving", "Voice-Controlled"),
                (1499, 24999),
                (("protocol", ("Matter", "Zigbee", "Wi-Fi")),),
            ),
        ),
    ),
    Department(
        "Home & Kitchen",
        "HOM",
        (
            Aisle(
                "Cookware",
                ("Frying Pan", "Saucepan", "Dutch Oven", "Wok", "Stockpot"),
                ("Cast-Iron", "Non-Stick", "Stainless Steel", "Enamelled", "Induction-Ready"),
                (1999, 19999),
                (("diameter_cm", ("20", "24", "28", "32")), ("material", ("iron", "steel"))),
            ),
            Aisle(
                "Coffee & Tea",
                ("Pour-Over Kettle", "French Press", "Burr Grinder", "Teapot", "Espresso Cups"),
                ("Gooseneck", "Double-Walled", "Manual", "Ceramic", "Glass"),
                (999, 29999),
                (("capacity_ml", ("350", "600", "1000")), ("colour", COLOURS)),
            ),
            Aisle(
                "Bedding",
                ("Duvet Cover", "Pillow", "Fitted Sheet", "Weighted Blanket", "Throw"),
                ("Organic Cotton", "Linen", "Percale", "Hypoallergenic", "Cosy"),
                (1999, 18999),
                (("size", ("single", "double", "king")), ("colour", COLOURS)),
            ),
            Aisle(
                "Lighting",
                ("Desk Lamp", "Floor Lamp", "Pendant Light", "Reading Light"),
                ("Dimmable", "Adjustable", "Minimalist", "Rechargeable", "Warm-White"),
                (1999, 24999),
                (("colour", COLOURS), ("bulb", ("E27", "GU10", "integrated LED"))),
            ),
        ),
    ),
    Department(
        "Fashion",
        "FSH",
        (
            Aisle(
                "T-Shirts",
                ("Crew-Neck T-Shirt", "V-Neck T-Shirt", "Long-Sleeve Tee", "Pocket Tee"),
                ("Organic", "Heavyweight", "Slim-Fit", "Relaxed", "Striped"),
                (1499, 4999),
                (("size", SIZES), ("colour", COLOURS)),
            ),
            Aisle(
                "Jackets",
                ("Rain Jacket", "Down Jacket", "Denim Jacket", "Softshell Jacket"),
                ("Waterproof", "Packable", "Insulated", "Recycled", "Hooded"),
                (4999, 29999),
                (("size", SIZES), ("colour", COLOURS)),
            ),
            Aisle(
                "Shoes",
                ("Running Shoes", "Leather Boots", "Canvas Sneakers", "Hiking Boots", "Loafers"),
                ("Lightweight", "Waterproof", "Classic", "Vegan", "Cushioned"),
                (3999, 21999),
                (("eu_size", ("38", "39", "40", "41", "42", "43", "44", "45")),),
            ),
            Aisle(
                "Bags",
                ("Backpack", "Tote Bag", "Messenger Bag", "Weekender", "Belt Bag"),
                ("Waxed-Canvas", "Leather", "Roll-Top", "Water-Resistant", "Everyday"),
                (2499, 24999),
                (("volume_l", ("8", "15", "22", "30")), ("colour", COLOURS)),
            ),
        ),
    ),
    Department(
        "Sports & Outdoors",
        "SPO",
        (
            Aisle(
                "Camping",
                ("Tent", "Sleeping Bag", "Camping Stove", "Headlamp", "Camp Chair"),
                ("Ultralight", "Two-Person", "Four-Season", "Compact", "Rechargeable"),
                (1999, 49999),
                (("weight_g", ("350", "800", "1500", "2400")),),
            ),
            Aisle(
                "Cycling",
                ("Bike Helmet", "Bike Light Set", "Cycling Gloves", "Saddle Bag", "Mini Pump"),
                ("Aero", "Reflective", "USB-Rechargeable", "Padded", "Compact"),
                (999, 19999),
                (("size", ("S", "M", "L")), ("colour", COLOURS)),
            ),
            Aisle(
                "Yoga & Fitness",
                ("Yoga Mat", "Resistance Bands", "Kettlebell", "Foam Roller", "Jump Rope"),
                ("Non-Slip", "Eco", "Adjustable", "Travel", "Extra-Thick"),
                (999, 12999),
                (("colour", COLOURS),),
            ),
        ),
    ),
    Department(
        "Books & Media",
        "BKS",
        (
            Aisle(
                "Fiction",
                ("Novel", "Short Story Collection", "Mystery", "Science Fiction Saga"),
                ("Award-Winning", "Bestselling", "Illustrated", "Paperback", "Hardcover"),
                (899, 3499),
                (("format", ("paperback", "hardcover", "ebook")), ("language", ("en", "de"))),
            ),
            Aisle(
                "Cookbooks",
                ("Baking Book", "Vegetarian Cookbook", "Fermentation Guide", "Pasta Book"),
                ("Illustrated", "Seasonal", "Family", "Quick", "Classic"),
                (1499, 4999),
                (("format", ("paperback", "hardcover")),),
            ),
            Aisle(
                "Vinyl Records",
                ("Jazz LP", "Soul Compilation", "Ambient Album", "Live Recording"),
                ("Remastered", "180 g", "Limited", "Double", "Coloured"),
                (1999, 5999),
                (("speed_rpm", ("33", "45")),),
            ),
        ),
    ),
    Department(
        "Toys & Games",
        "TOY",
        (
            Aisle(
                "Board Games",
                ("Strategy Game", "Co-op Board Game", "Party Game", "Card Game"),
                ("Family", "Two-Player", "Award-Winning", "Quick", "Deluxe"),
                (1499, 7999),
                (("players", ("2", "2-4", "3-6")), ("age", ("8+", "10+", "14+"))),
            ),
            Aisle(
                "Puzzles",
                ("Jigsaw Puzzle", "Wooden Puzzle", "3D Puzzle", "Puzzle Cube"),
                ("1000-Piece", "500-Piece", "Panoramic", "Challenging", "Kids'"),
                (999, 4999),
                (("pieces", ("100", "500", "1000", "2000")),),
            ),
            Aisle(
                "Building Sets",
                ("Building Set", "Marble Run", "Robot Kit", "Construction Blocks"),
                ("Creative", "Motorised", "Starter", "Architect", "STEM"),
                (1499, 14999),
                (("pieces", ("150", "400", "900")), ("age", ("6+", "8+", "12+"))),
            ),
        ),
    ),
)

BRANDS = (
    "Nordhaus",
    "Aurelia",
    "Kestrel",
    "Mistral",
    "Halden",
    "Lumo",
    "Fjordline",
    "Oakmere",
    "Sola",
    "Brightwater",
    "Tessel",
    "Vantaa",
)
OPENINGS = (
    "Designed for everyday use, the {name} combines {adj} design with honest materials.",
    "The {name} is a {noun_lower} built to last: {adj} and easy to live with.",
    "Meet the {name}: {adj}, thoughtfully made, and backed by a two-year warranty.",
    "A {adj} take on the classic {noun_lower}, the {name} earns its place from day one.",
)
DETAILS = (
    "Tested by our team for months before it made the catalogue.",
    "Made in small batches by a family-run workshop.",
    "Packed in recycled, plastic-free packaging.",
    "Spare parts are available for at least five years.",
    "Rated four and a half stars by customers who bought it.",
    "Easy to clean and built to be repaired, not replaced.",
)


def _price(rng: random.Random, low: int, high: int) -> int:
    """A price in cents ending in .99, within the aisle's range."""
    return max(99, (rng.randint(low, high) // 100) * 100 + 99)


def _stock(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.08:
        return 0
    if roll < 0.2:
        return rng.randint(1, 5)
    return rng.randint(6, 250)


def demo_categories(existing: dict[str, Category] | None = None) -> list[Category]:
    """The department tree; categories whose slug already exists keep their ids."""
    existing = existing or {}
    now = utcnow()
    result: list[Category] = []

    def make(name: str, parent: Category | None) -> Category:
        slug = slugify(name)
        found = existing.get(slug)
        category = found or Category(
            id=new_id(),
            slug=slug,
            name=name,
            parent_id=parent.id if parent else None,
            created_at=now,
            updated_at=now,
        )
        result.append(category)
        return category

    for department in DEPARTMENTS:
        top = make(department.name, None)
        for aisle in department.aisles:
            make(aisle.name, top)
    return result


def demo_products(
    categories: list[Category],
    count: int,
    *,
    seed: int = 2026,
    currency: str = "EUR",
    now: datetime | None = None,
) -> Iterator[Product]:
    """``count`` products spread over the aisles, oldest first, generated lazily."""
    by_slug = {c.slug: c for c in categories}
    aisles = [
        (department, index, aisle)
        for department in DEPARTMENTS
        for index, aisle in enumerate(department.aisles, start=1)
    ]
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    now = now or utcnow()
    for n in range(count):
        department, index, aisle = aisles[n % len(aisles)]
        brand = rng.choice(BRANDS)
        adjective = rng.choice(aisle.adjectives)
        noun = rng.choice(aisle.nouns)
        name = f"{brand} {adjective} {noun}"
        sku = f"{department.code}{index:02d}-{n + 1:06d}"
        description = " ".join(
            (
                rng.choice(OPENINGS).format(
                    name=name, adj=adjective.lower(), noun_lower=noun.lower()
                ),
                *rng.sample(DETAILS, 2),
            )
        )
        attributes: dict[str, Any] = {"brand": brand}
        for key, values in aisle.attributes:
            attributes[key] = rng.choice(values)
        created = now - timedelta(minutes=count - n)
        category = by_slug.get(slugify(aisle.name))
        yield Product(
            id=new_id(),
            sku=sku,
            slug=f"{slugify(name)}-{sku.lower()}",
            name=name,
            description=description,
            price=Money(_price(rng, *aisle.price_range), currency),
            stock=_stock(rng),
            category_id=category.id if category else None,
            is_published=rng.random() < 0.97,
            attributes=attributes,
            created_at=created,
            updated_at=created,
        )

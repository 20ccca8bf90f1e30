from sqlalchemy import Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Model(DeclarativeBase):
    pass


class Entry(Model):
    __tablename__ = "entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What a till sends is free text: no length a column would cut it at.
    text: Mapped[str] = mapped_column(Text)

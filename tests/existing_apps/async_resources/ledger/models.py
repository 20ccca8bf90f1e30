from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Model(DeclarativeBase):
    pass


class Entry(Model):
    __tablename__ = "entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str]

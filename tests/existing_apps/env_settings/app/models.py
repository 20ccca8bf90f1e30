from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class Link(Base):
    __tablename__ = "links"

    code: Mapped[str] = mapped_column(primary_key=True)
    target: Mapped[str]

from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base

# Written for SQLAlchemy 1.4; 2.0 still reads it as it is.
Base = declarative_base()


class Parcel(Base):
    __tablename__ = "parcels"

    id = Column(Integer, primary_key=True)
    label = Column(String, nullable=False)

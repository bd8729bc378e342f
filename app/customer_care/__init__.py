"""Customer care: our own post-delivery survey, customers' messages about a parcel (cases) and the figures
staff are measured on."""

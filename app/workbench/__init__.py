"""The staff workbench: acting on the at-risk queue, a shipment's history, and customers' single view."""

"""RabbitMQ transport of the events backbone: the relay's ``RabbitPublisher`` and the
``RabbitSubscriber`` that feeds each consumer's inbox from its queue.

The topology (``topology``): one durable topic exchange, routing key = event name; one
durable quorum queue per consumer, bound to the names it subscribes to; one dead queue
for deliveries no consumer can read.
"""

from agora.platform.broker.publisher import RabbitPublisher
from agora.platform.broker.subscriber import RabbitSubscriber
from agora.platform.broker.topology import Topology

__all__ = ["RabbitPublisher", "RabbitSubscriber", "Topology"]

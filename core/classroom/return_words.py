"""256 short, common, easy-to-spell words: four of them make a student's return code (32 bits)."""

WORDS = tuple("""
acorn actor album alpine amber anchor angle apple apron arrow atlas autumn badge bakery bamboo banana
banjo barn basket beach beacon bean bear beaver bell berry bicycle bird biscuit blanket blossom boat
bonnet book bottle branch bread breeze brick bridge broom brush bubble bucket bugle bunny butter button
cabin cactus cake camel camera candle canoe canvas canyon carpet carrot castle cedar cello chalk cherry
chess chimney circle city clock cloud clover coconut comet compass cookie copper coral cotton crayon
cricket crown crystal cup daisy dancer desert diamond dinner dolphin donkey door dragon drum eagle
earth easel echo elbow engine falcon feather fence fern fiddle field finch flag flute forest fossil
fountain fox frog garden garlic giant ginger glacier globe glove goat grape guitar hammer harbor harp
hawk hazel helmet hill honey horse island jacket jelly jigsaw jungle kayak kite koala ladder
lagoon lake lantern lemon letter lily lion lizard magnet mango maple marble meadow melon
mirror mitten monkey moon morning mountain muffin mushroom needle nest noodle ocean olive onion orange
orbit otter owl paddle palace panda paper parrot peach peanut pebble pencil penguin pepper piano pickle
pillow pine planet plum pocket pony potato puddle pumpkin puppet quilt rabbit radio rain raven ribbon
river robin rocket rose saddle sail salad sandal scarf shadow shell ship silver sky sled snail
snow sock spider spoon spring squirrel star stone storm sugar summer sun swan table tiger toast tomato
tower tractor train tree trumpet tulip turtle umbrella valley violin wagon walnut water whale willow
window winter wizard wolf yogurt zebra
""".split())

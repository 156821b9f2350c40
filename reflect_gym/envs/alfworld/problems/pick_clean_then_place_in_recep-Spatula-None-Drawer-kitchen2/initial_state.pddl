(define (problem plan_pick_clean_then_place_in_recep-Spatula-None-Drawer-kitchen2)
(:domain alfred)
(:objects
agent1 - agent
        BowlType - otype
        BreadType - otype
        ButterKnifeType - otype
        DishSpongeType - otype
        ForkType - otype
        KnifeType - otype
        LadleType - otype
        LettuceType - otype
        PotType - otype
        SpatulaType - otype
        TomatoType - otype
        CabinetType - rtype
        CounterTopType - rtype
        DiningTableType - rtype
        DrawerType - rtype
        FridgeType - rtype
        GarbageCanType - rtype
        MicrowaveType - rtype
        SinkBasinType - rtype
        StoveBurnerType - rtype
        Bread_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10 - object
        Spatula_bar__plus_08_dot_54_bar__plus_00_dot_90_bar__plus_07_dot_53 - object
        Fork_bar__plus_08_dot_58_bar__plus_00_dot_95_bar__plus_07_dot_96 - object
        Ladle_bar__plus_09_dot_06_bar__plus_01_dot_00_bar__plus_08_dot_39 - object
        Bowl_bar__plus_09_dot_32_bar__plus_00_dot_90_bar__plus_08_dot_82 - object
        DishSponge_bar__plus_10_dot_35_bar__plus_00_dot_95_bar__plus_09_dot_25 - object
        Pot_bar__plus_09_dot_95_bar__plus_01_dot_00_bar__plus_09_dot_68 - object
        Lettuce_bar__plus_10_dot_76_bar__plus_00_dot_90_bar__plus_10_dot_11 - object
        Tomato_bar__plus_11_dot_02_bar__plus_00_dot_95_bar__plus_10_dot_54 - object
        CounterTop_bar__plus_01_dot_10_bar__plus_00_dot_90_bar__minus_01_dot_50 - receptacle
        DiningTable_bar__plus_01_dot_58_bar__plus_00_dot_95_bar__minus_01_dot_07 - receptacle
        Drawer_bar__plus_01_dot_40_bar__plus_01_dot_00_bar__minus_00_dot_64 - receptacle
        Drawer_bar__plus_01_dot_77_bar__plus_00_dot_90_bar__minus_00_dot_21 - receptacle
        Cabinet_bar__plus_02_dot_25_bar__plus_00_dot_95_bar__plus_00_dot_22 - receptacle
        Sink_bar__plus_02_dot_29_bar__plus_01_dot_00_bar__plus_00_dot_65_bar_SinkBasin - receptacle
        StoveBurner_bar__plus_03_dot_43_bar__plus_00_dot_90_bar__plus_01_dot_08 - receptacle
        Fridge_bar__plus_03_dot_25_bar__plus_00_dot_95_bar__plus_01_dot_51 - receptacle
        Microwave_bar__plus_03_dot_95_bar__plus_01_dot_00_bar__plus_01_dot_94 - receptacle
        GarbageCan_bar__plus_04_dot_43_bar__plus_00_dot_90_bar__plus_02_dot_37 - receptacle
        loc_bar_0_bar_6_bar_3_bar__minus_15 - location
        loc_bar_0_bar__minus_4_bar_0_bar__minus_30 - location
        loc_bar_1_bar__minus_1_bar_1_bar__minus_15 - location
        loc_bar_1_bar__minus_2_bar_0_bar_0 - location
        loc_bar_2_bar_1_bar_1_bar_15 - location
        loc_bar_2_bar_2_bar_2_bar_0 - location
        loc_bar_3_bar_5_bar_3_bar_15 - location
        loc_bar_4_bar__minus_3_bar_0_bar_30 - location
        loc_bar_5_bar_0_bar_1_bar_45 - location
        loc_bar_6_bar_3_bar_2_bar__minus_30 - location
        loc_bar__minus_1_bar_5_bar_0_bar_30 - location
        )

(:init

        (receptacleType CounterTop_bar__plus_01_dot_10_bar__plus_00_dot_90_bar__minus_01_dot_50 CounterTopType)
        (receptacleType DiningTable_bar__plus_01_dot_58_bar__plus_00_dot_95_bar__minus_01_dot_07 DiningTableType)
        (receptacleType Drawer_bar__plus_01_dot_40_bar__plus_01_dot_00_bar__minus_00_dot_64 DrawerType)
        (receptacleType Drawer_bar__plus_01_dot_77_bar__plus_00_dot_90_bar__minus_00_dot_21 DrawerType)
        (receptacleType Cabinet_bar__plus_02_dot_25_bar__plus_00_dot_95_bar__plus_00_dot_22 CabinetType)
        (receptacleType Sink_bar__plus_02_dot_29_bar__plus_01_dot_00_bar__plus_00_dot_65_bar_SinkBasin SinkBasinType)
        (receptacleType StoveBurner_bar__plus_03_dot_43_bar__plus_00_dot_90_bar__plus_01_dot_08 StoveBurnerType)
        (receptacleType Fridge_bar__plus_03_dot_25_bar__plus_00_dot_95_bar__plus_01_dot_51 FridgeType)
        (receptacleType Microwave_bar__plus_03_dot_95_bar__plus_01_dot_00_bar__plus_01_dot_94 MicrowaveType)
        (receptacleType GarbageCan_bar__plus_04_dot_43_bar__plus_00_dot_90_bar__plus_02_dot_37 GarbageCanType)
        (objectType Bread_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10 BreadType)
        (objectType Spatula_bar__plus_08_dot_54_bar__plus_00_dot_90_bar__plus_07_dot_53 SpatulaType)
        (objectType Fork_bar__plus_08_dot_58_bar__plus_00_dot_95_bar__plus_07_dot_96 ForkType)
        (objectType Ladle_bar__plus_09_dot_06_bar__plus_01_dot_00_bar__plus_08_dot_39 LadleType)
        (objectType Bowl_bar__plus_09_dot_32_bar__plus_00_dot_90_bar__plus_08_dot_82 BowlType)
        (objectType DishSponge_bar__plus_10_dot_35_bar__plus_00_dot_95_bar__plus_09_dot_25 DishSpongeType)
        (objectType Pot_bar__plus_09_dot_95_bar__plus_01_dot_00_bar__plus_09_dot_68 PotType)
        (objectType Lettuce_bar__plus_10_dot_76_bar__plus_00_dot_90_bar__plus_10_dot_11 LettuceType)
        (objectType Tomato_bar__plus_11_dot_02_bar__plus_00_dot_95_bar__plus_10_dot_54 TomatoType)
        (canContain CabinetType BowlType)
        (canContain CabinetType DishSpongeType)
        (canContain CabinetType LadleType)
        (canContain CabinetType PotType)
        (canContain CounterTopType BowlType)
        (canContain CounterTopType BreadType)
        (canContain CounterTopType DishSpongeType)
        (canContain CounterTopType ForkType)
        (canContain CounterTopType LadleType)
        (canContain CounterTopType LettuceType)
        (canContain CounterTopType PotType)
        (canContain CounterTopType SpatulaType)
        (canContain CounterTopType TomatoType)
        (canContain DiningTableType BowlType)
        (canContain DiningTableType BreadType)
        (canContain DiningTableType DishSpongeType)
        (canContain DiningTableType ForkType)
        (canContain DiningTableType LadleType)
        (canContain DiningTableType LettuceType)
        (canContain DiningTableType PotType)
        (canContain DiningTableType SpatulaType)
        (canContain DiningTableType TomatoType)
        (canContain DrawerType DishSpongeType)
        (canContain DrawerType ForkType)
        (canContain DrawerType LadleType)
        (canContain DrawerType SpatulaType)
        (canContain FridgeType BowlType)
        (canContain FridgeType BreadType)
        (canContain FridgeType LettuceType)
        (canContain FridgeType PotType)
        (canContain FridgeType TomatoType)
        (canContain GarbageCanType BreadType)
        (canContain GarbageCanType DishSpongeType)
        (canContain GarbageCanType LettuceType)
        (canContain GarbageCanType TomatoType)
        (canContain MicrowaveType BowlType)
        (canContain MicrowaveType BreadType)
        (canContain MicrowaveType TomatoType)
        (canContain SinkBasinType BowlType)
        (canContain SinkBasinType DishSpongeType)
        (canContain SinkBasinType ForkType)
        (canContain SinkBasinType LadleType)
        (canContain SinkBasinType LettuceType)
        (canContain SinkBasinType PotType)
        (canContain SinkBasinType SpatulaType)
        (canContain SinkBasinType TomatoType)
        (canContain StoveBurnerType PotType)
        (pickupable Bread_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10)
        (pickupable Spatula_bar__plus_08_dot_54_bar__plus_00_dot_90_bar__plus_07_dot_53)
        (pickupable Fork_bar__plus_08_dot_58_bar__plus_00_dot_95_bar__plus_07_dot_96)
        (pickupable Ladle_bar__plus_09_dot_06_bar__plus_01_dot_00_bar__plus_08_dot_39)
        (pickupable Bowl_bar__plus_09_dot_32_bar__plus_00_dot_90_bar__plus_08_dot_82)
        (pickupable DishSponge_bar__plus_10_dot_35_bar__plus_00_dot_95_bar__plus_09_dot_25)
        (pickupable Pot_bar__plus_09_dot_95_bar__plus_01_dot_00_bar__plus_09_dot_68)
        (pickupable Lettuce_bar__plus_10_dot_76_bar__plus_00_dot_90_bar__plus_10_dot_11)
        (pickupable Tomato_bar__plus_11_dot_02_bar__plus_00_dot_95_bar__plus_10_dot_54)
        (isReceptacleObject Bowl_bar__plus_09_dot_32_bar__plus_00_dot_90_bar__plus_08_dot_82)
        (isReceptacleObject Pot_bar__plus_09_dot_95_bar__plus_01_dot_00_bar__plus_09_dot_68)
        (openable Drawer_bar__plus_01_dot_40_bar__plus_01_dot_00_bar__minus_00_dot_64)
        (openable Drawer_bar__plus_01_dot_77_bar__plus_00_dot_90_bar__minus_00_dot_21)
        (openable Cabinet_bar__plus_02_dot_25_bar__plus_00_dot_95_bar__plus_00_dot_22)
        (openable Fridge_bar__plus_03_dot_25_bar__plus_00_dot_95_bar__plus_01_dot_51)
        (openable Microwave_bar__plus_03_dot_95_bar__plus_01_dot_00_bar__plus_01_dot_94)
        (atLocation agent1 loc_bar__minus_1_bar_5_bar_0_bar_30)
        (cleanable Spatula_bar__plus_08_dot_54_bar__plus_00_dot_90_bar__plus_07_dot_53)
        (cleanable Fork_bar__plus_08_dot_58_bar__plus_00_dot_95_bar__plus_07_dot_96)
        (cleanable Ladle_bar__plus_09_dot_06_bar__plus_01_dot_00_bar__plus_08_dot_39)
        (cleanable Bowl_bar__plus_09_dot_32_bar__plus_00_dot_90_bar__plus_08_dot_82)
        (cleanable DishSponge_bar__plus_10_dot_35_bar__plus_00_dot_95_bar__plus_09_dot_25)
        (cleanable Pot_bar__plus_09_dot_95_bar__plus_01_dot_00_bar__plus_09_dot_68)
        (cleanable Lettuce_bar__plus_10_dot_76_bar__plus_00_dot_90_bar__plus_10_dot_11)
        (cleanable Tomato_bar__plus_11_dot_02_bar__plus_00_dot_95_bar__plus_10_dot_54)
        (heatable Bread_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10)
        (heatable Tomato_bar__plus_11_dot_02_bar__plus_00_dot_95_bar__plus_10_dot_54)
        (coolable Bread_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10)
        (coolable Bowl_bar__plus_09_dot_32_bar__plus_00_dot_90_bar__plus_08_dot_82)
        (coolable Pot_bar__plus_09_dot_95_bar__plus_01_dot_00_bar__plus_09_dot_68)
        (coolable Lettuce_bar__plus_10_dot_76_bar__plus_00_dot_90_bar__plus_10_dot_11)
        (coolable Tomato_bar__plus_11_dot_02_bar__plus_00_dot_95_bar__plus_10_dot_54)
        (sliceable Bread_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10)
        (sliceable Lettuce_bar__plus_10_dot_76_bar__plus_00_dot_90_bar__plus_10_dot_11)
        (sliceable Tomato_bar__plus_11_dot_02_bar__plus_00_dot_95_bar__plus_10_dot_54)
        (inReceptacle Bread_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10 CounterTop_bar__plus_01_dot_10_bar__plus_00_dot_90_bar__minus_01_dot_50)
        (inReceptacle Spatula_bar__plus_08_dot_54_bar__plus_00_dot_90_bar__plus_07_dot_53 DiningTable_bar__plus_01_dot_58_bar__plus_00_dot_95_bar__minus_01_dot_07)
        (inReceptacle Fork_bar__plus_08_dot_58_bar__plus_00_dot_95_bar__plus_07_dot_96 DiningTable_bar__plus_01_dot_58_bar__plus_00_dot_95_bar__minus_01_dot_07)
        (inReceptacle Ladle_bar__plus_09_dot_06_bar__plus_01_dot_00_bar__plus_08_dot_39 Drawer_bar__plus_01_dot_40_bar__plus_01_dot_00_bar__minus_00_dot_64)
        (inReceptacle Bowl_bar__plus_09_dot_32_bar__plus_00_dot_90_bar__plus_08_dot_82 Cabinet_bar__plus_02_dot_25_bar__plus_00_dot_95_bar__plus_00_dot_22)
        (inReceptacle DishSponge_bar__plus_10_dot_35_bar__plus_00_dot_95_bar__plus_09_dot_25 Sink_bar__plus_02_dot_29_bar__plus_01_dot_00_bar__plus_00_dot_65_bar_SinkBasin)
        (inReceptacle Pot_bar__plus_09_dot_95_bar__plus_01_dot_00_bar__plus_09_dot_68 StoveBurner_bar__plus_03_dot_43_bar__plus_00_dot_90_bar__plus_01_dot_08)
        (inReceptacle Lettuce_bar__plus_10_dot_76_bar__plus_00_dot_90_bar__plus_10_dot_11 Fridge_bar__plus_03_dot_25_bar__plus_00_dot_95_bar__plus_01_dot_51)
        (inReceptacle Tomato_bar__plus_11_dot_02_bar__plus_00_dot_95_bar__plus_10_dot_54 GarbageCan_bar__plus_04_dot_43_bar__plus_00_dot_90_bar__plus_02_dot_37)
        (receptacleAtLocation CounterTop_bar__plus_01_dot_10_bar__plus_00_dot_90_bar__minus_01_dot_50 loc_bar_0_bar__minus_4_bar_0_bar__minus_30)
        (receptacleAtLocation DiningTable_bar__plus_01_dot_58_bar__plus_00_dot_95_bar__minus_01_dot_07 loc_bar_1_bar__minus_1_bar_1_bar__minus_15)
        (receptacleAtLocation Drawer_bar__plus_01_dot_40_bar__plus_01_dot_00_bar__minus_00_dot_64 loc_bar_2_bar_2_bar_2_bar_0)
        (receptacleAtLocation Drawer_bar__plus_01_dot_77_bar__plus_00_dot_90_bar__minus_00_dot_21 loc_bar_3_bar_5_bar_3_bar_15)
        (receptacleAtLocation Cabinet_bar__plus_02_dot_25_bar__plus_00_dot_95_bar__plus_00_dot_22 loc_bar_4_bar__minus_3_bar_0_bar_30)
        (receptacleAtLocation Sink_bar__plus_02_dot_29_bar__plus_01_dot_00_bar__plus_00_dot_65_bar_SinkBasin loc_bar_5_bar_0_bar_1_bar_45)
        (receptacleAtLocation StoveBurner_bar__plus_03_dot_43_bar__plus_00_dot_90_bar__plus_01_dot_08 loc_bar_6_bar_3_bar_2_bar__minus_30)
        (receptacleAtLocation Fridge_bar__plus_03_dot_25_bar__plus_00_dot_95_bar__plus_01_dot_51 loc_bar_0_bar_6_bar_3_bar__minus_15)
        (receptacleAtLocation Microwave_bar__plus_03_dot_95_bar__plus_01_dot_00_bar__plus_01_dot_94 loc_bar_1_bar__minus_2_bar_0_bar_0)
        (receptacleAtLocation GarbageCan_bar__plus_04_dot_43_bar__plus_00_dot_90_bar__plus_02_dot_37 loc_bar_2_bar_1_bar_1_bar_15)
        (objectAtLocation Bread_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10 loc_bar_0_bar__minus_4_bar_0_bar__minus_30)
        (objectAtLocation Spatula_bar__plus_08_dot_54_bar__plus_00_dot_90_bar__plus_07_dot_53 loc_bar_1_bar__minus_1_bar_1_bar__minus_15)
        (objectAtLocation Fork_bar__plus_08_dot_58_bar__plus_00_dot_95_bar__plus_07_dot_96 loc_bar_1_bar__minus_1_bar_1_bar__minus_15)
        (objectAtLocation Ladle_bar__plus_09_dot_06_bar__plus_01_dot_00_bar__plus_08_dot_39 loc_bar_2_bar_2_bar_2_bar_0)
        (objectAtLocation Bowl_bar__plus_09_dot_32_bar__plus_00_dot_90_bar__plus_08_dot_82 loc_bar_4_bar__minus_3_bar_0_bar_30)
        (objectAtLocation DishSponge_bar__plus_10_dot_35_bar__plus_00_dot_95_bar__plus_09_dot_25 loc_bar_5_bar_0_bar_1_bar_45)
        (objectAtLocation Pot_bar__plus_09_dot_95_bar__plus_01_dot_00_bar__plus_09_dot_68 loc_bar_6_bar_3_bar_2_bar__minus_30)
        (objectAtLocation Lettuce_bar__plus_10_dot_76_bar__plus_00_dot_90_bar__plus_10_dot_11 loc_bar_0_bar_6_bar_3_bar__minus_15)
        (objectAtLocation Tomato_bar__plus_11_dot_02_bar__plus_00_dot_95_bar__plus_10_dot_54 loc_bar_2_bar_1_bar_1_bar_15)
        )

        (:goal
            (and
                (exists (?r - receptacle)
                    (exists (?o - object)
                        (and
                            (cleanable ?o)
                            (objectType ?o SpatulaType)
                            (receptacleType ?r DrawerType)
                            (isClean ?o)
                            (inReceptacle ?o ?r)
                        )
                    )
                )
            )
        )
    )
